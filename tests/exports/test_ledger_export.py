"""Posting rows as CSV, XLSX and JSON Lines; the admin resource's money cells."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from import_export import resources
from moneyed import Money

from accounting.exports import ExportRefused
from accounting.exports.ledger import COLUMNS
from accounting.exports.resources import MoneyWidget, PostingResource
from accounting.exports.services import export_ledger_file
from accounting.models import Posting
from audit.models import AuditEvent
from tests.exports.conftest import Ledger

pytestmark = pytest.mark.django_db

EXPECTED_2026 = [
    # voucher, date, account, amount, cost centre, project, fund
    ("B1", "2026-01-15", "1930", "200000.00", "", "ESF-2005-1", ""),
    ("B1", "2026-01-15", "3981", "-200000.00", "", "ESF-2005-1", ""),
    ("A1", "2026-02-28", "7010", "30000.00", "100", "ESF-2005-1", ""),
    ("A1", "2026-02-28", "7510", "9426.00", "100", "ESF-2005-1", ""),
    ("A1", "2026-02-28", "1930", "-39426.00", "", "ESF-2005-1", ""),
    ("A2", "2026-03-05", "6110", "0.01", "300", "", "ALLM"),
    ("A2", "2026-03-05", "1930", "-0.01", "", "", "ALLM"),
]


def _project(row: dict) -> tuple:  # type: ignore[type-arg]
    """The compared columns; a missing dimension is "" in CSV and null in JSON."""
    keys = ("voucher", "date", "account", "amount", "cost_centre", "project", "fund")
    return tuple(row[key] or "" for key in keys)


def test_csv_export_has_every_posting_in_the_range_with_amounts_in_ore(
    ledger: Ledger, tmp_path: Path
) -> None:
    import datetime as dt

    target = tmp_path / "postings.csv"
    summary = export_ledger_file(
        target, fmt="csv", date_from=dt.date(2026, 1, 1), actor=ledger.treasurer
    )
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8"))))

    assert summary.rows == 7
    assert tuple(rows[0].keys()) == COLUMNS
    assert [_project(r) for r in rows] == EXPECTED_2026
    assert {r["currency"] for r in rows} == {"SEK"}
    assert {r["fiscal_year"] for r in rows} == {"2026"}
    assert sum(Decimal(r["amount"]) for r in rows) == 0


def test_jsonl_export_reads_back_line_by_line(ledger: Ledger, tmp_path: Path) -> None:
    target = tmp_path / "postings.jsonl"
    export_ledger_file(target, fmt="jsonl")
    records = [json.loads(line) for line in target.read_text("utf-8").splitlines()]

    assert len(records) == Posting.objects.count() == 13
    assert [_project(r) for r in records[-7:]] == EXPECTED_2026
    assert all(isinstance(r["amount"], str) for r in records)
    assert records[-1]["project"] is None and records[-1]["fiscal_year"] == 2026


def test_xlsx_export_has_numeric_amounts(ledger: Ledger, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    target = tmp_path / "postings.xlsx"
    export_ledger_file(target, fmt="xlsx")
    sheet = load_workbook(target, read_only=True)["postings"]
    values = list(sheet.iter_rows(values_only=True))

    assert values[0] == COLUMNS
    assert len(values) == 14
    amounts = [Decimal(str(row[4])) for row in values[1:]]
    assert sum(amounts) == 0
    assert Decimal("1234.56") in amounts and Decimal("0.01") in amounts


def test_a_paid_case_carries_its_reference_and_no_personal_data(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = world.to_paid(world.new_application("1500", name="Hemlig Person"))
    target = tmp_path / "postings.csv"
    export_ledger_file(target, fmt="csv", actor=world.treasurer)
    text = target.read_text("utf-8")

    assert app.reference in text
    assert "Hemlig" not in text and "Person" not in text
    assert app.beneficiary.reference not in text


def test_unknown_format_and_reversed_range_are_refused(ledger: Ledger, tmp_path: Path) -> None:
    import datetime as dt

    with pytest.raises(ExportRefused):
        export_ledger_file(tmp_path / "x.txt", fmt="txt")
    with pytest.raises(ExportRefused, match="after"):
        export_ledger_file(
            tmp_path / "x.csv",
            fmt="csv",
            date_from=dt.date(2026, 2, 1),
            date_to=dt.date(2026, 1, 1),
        )
    assert list(tmp_path.iterdir()) == []


def test_export_ledger_command_audits_counts_and_hash_only(ledger: Ledger, tmp_path: Path) -> None:
    target = tmp_path / "p.jsonl"
    call_command(
        "export_ledger",
        "--format",
        "jsonl",
        "--output",
        str(target),
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
    )
    event = AuditEvent.objects.get(action="export.ledger")
    assert event.payload["rows"] == 7
    assert event.payload["from"] == "2026-01-01"
    assert event.actor_role == "cli"
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_ledger", "--format", "csv", "--output", "x", "--from", "1/2")


def test_the_money_pitfall_a_default_resource_exports_empty_amount_cells(
    ledger: Ledger,
) -> None:
    class DefaultPostingResource(resources.ModelResource):
        class Meta:
            model = Posting
            fields = ("id", "amount")

    naive = DefaultPostingResource().export()
    assert {row[1] for row in naive} == {""}  # the pitfall MoneyWidget exists for

    dataset = PostingResource().export()
    amounts = dataset["amount"]
    assert "" not in amounts
    assert "1234.56" in amounts and "-200000.00" in amounts and "0.01" in amounts
    assert dataset.headers == [
        "voucher",
        "date",
        "account",
        "amount",
        "currency",
        "cost_centre",
        "project",
        "fund",
    ]


def test_money_widget_renders_native_numbers_for_spreadsheets_and_reads_amounts() -> None:
    widget = MoneyWidget()
    assert widget.render(Money("12.5", "SEK")) == "12.50"
    assert widget.render(Money("12.5", "SEK"), force_native_type=True) == Decimal("12.50")
    assert widget.render(None) == ""
    assert widget.clean("1 234,50") == Money("1234.50", "SEK")
    assert widget.clean("") is None
    with pytest.raises(ValueError, match="not an amount"):
        widget.clean("tolv")


def test_the_fast_csv_path_writes_the_same_bytes_as_the_orm_path(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The CSV export spells every cell in SQL (csv_chunks); the ORM path's typed values
    (Decimal, date, int) written by csv.writer are the reference, byte for byte."""
    import datetime as dt

    from accounting.exports.ledger import csv_from_rows, rows, write_ledger
    from accounting.ledger import Line
    from accounting.models import Dimension, DimensionObject

    # Codes with a quote, a comma, a newline, a semicolon and non-ASCII letters, written
    # past the reference-data service (whose audit event accepts only code-shaped text).
    awkward = DimensionObject.objects.bulk_create(
        [
            DimensionObject(
                dimension=Dimension.objects.get(number=Dimension.PROJECT),
                code='P"1,\nå',
                name="Awkward project",
            ),
            DimensionObject(
                dimension=Dimension.objects.get(number=Dimension.COST_CENTRE),
                code="K;2 ö'",
                name="Awkward cost centre",
            ),
        ]
    )
    project, cost_centre = (DimensionObject.objects.get(code=o.code) for o in awkward)
    ledger.book(
        "2024-12-31",
        "Årsskifte",
        Line("6110", Decimal("999999999.99"), project=project, cost_centre=cost_centre),
        Line("6570", Decimal("0.10"), fund=ledger.fund, project=project),
        Line("1930", Decimal("-1000000000.09"), fund=ledger.other_fund, cost_centre=cost_centre),
    )
    ledger.book(
        "2027-01-01",
        "Nyår",
        Line("6110", Decimal("-7.05"), cost_centre=ledger.purpose),
        Line("1930", Decimal("7.05")),
        series="C",
    )

    def both(**dates: dt.date) -> tuple[bytes, bytes]:
        fast, reference = tmp_path / "fast.csv", tmp_path / "reference.csv"
        with open(fast, "wb") as handle:
            count = write_ledger(handle, fmt="csv", **dates).rows
        with open(reference, "wb") as handle:
            assert csv_from_rows(handle, rows(**dates)) == count
        return fast.read_bytes(), reference.read_bytes()

    fast, reference = both()
    assert fast == reference
    assert b'"P""1,\n\xc3\xa5"' in fast and b"-1000000000.09" in fast and b",-7.05," in fast
    assert b",0.10," in fast and b",2024,2024-12-31," in fast and b",2027,2027-01-01," in fast
    fast, reference = both(date_from=dt.date(2025, 1, 1), date_to=dt.date(2026, 12, 31))
    assert fast == reference
    assert b"2024-12-31" not in fast and b"2027-01-01" not in fast
