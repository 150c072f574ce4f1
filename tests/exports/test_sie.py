"""SIE 4 / 4I: what is exported reads back, through a strict parser, to the same books."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting.exports import ExportRefused, sie
from accounting.exports.services import export_sie_file
from accounting.models import Posting, Voucher
from audit.models import AuditEvent
from tests.exports.conftest import QUIRKY_TEXT, Ledger
from tests.exports.sie_parser import SieSyntaxError, parse

pytestmark = pytest.mark.django_db


def _db_vouchers(year: int, start: dt.date | None = None, end: dt.date | None = None) -> list:
    vouchers = Voucher.objects.filter(fiscal_year__start__year=year).order_by("series", "number")
    if start and end:
        vouchers = vouchers.filter(date__range=(start, end))
    result = []
    for v in vouchers:
        trans = []
        for p in v.postings.order_by("id"):
            objects = {}
            if p.cost_centre:
                objects[1] = p.cost_centre.code
            if p.project:
                objects[6] = p.project.code
            if p.fund_object:
                objects[20] = p.fund_object.code
            trans.append((p.account.number, objects, p.amount.amount))
        result.append((v.series, str(v.number), v.date, v.text, trans))
    return result


def _file_vouchers(parsed) -> list:  # type: ignore[no-untyped-def]
    return [
        (v.series, v.number, v.date, v.text, [(t.account, t.objects, t.amount) for t in v.trans])
        for v in parsed.vouchers
    ]


def _export(tmp_path: Path, ledger: Ledger, **kw) -> tuple[bytes, sie.SieSummary]:  # type: ignore[no-untyped-def]
    target = tmp_path / "ledger.se"
    summary = export_sie_file(target, actor=ledger.treasurer, **kw)
    return target.read_bytes(), summary


def test_sie4_of_a_closed_year_reads_back_to_the_same_vouchers_and_balances(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.close_year(2025)
    data, summary = _export(tmp_path, ledger, year=2025, sie_type="4")
    parsed = parse(data)

    assert parsed.flagga == "0" and parsed.format == "PC8" and parsed.sietyp == "4"
    assert parsed.rar[0] == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert _file_vouchers(parsed) == _db_vouchers(2025)
    assert summary.vouchers == 3 and summary.transactions == 6
    # Hand-computed: bank 50 000 - 1 234.56 - 99.50; no earlier year, so no #IB.
    assert parsed.ib == {}
    assert parsed.ub == {"1930": Decimal("48665.94")}
    assert parsed.res == {
        "3993": Decimal("-50000.00"),
        "6570": Decimal("99.50"),
        "6710": Decimal("1234.56"),
    }
    assert sum(parsed.ub.values()) + sum(parsed.res.values()) == 0
    assert parsed.ktyp["1930"] == "T" and parsed.ktyp["3993"] == "I"
    assert parsed.ktyp["6710"] == "K" and parsed.ktyp["2067"] == "S"
    assert parsed.objects[(20, "BARN")] == "Barnfonden"
    assert parsed.objects[(6, "ESF-2005-1")] == "Equal-projekt"
    assert parsed.objects[(1, "100")] == "Ändamål"


def test_sie4_opening_balances_carry_earlier_results_to_retained_earnings(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.close_year(2025)
    ledger.close_year(2026)
    parsed = parse(_export(tmp_path, ledger, year=2026, sie_type="4")[0])

    assert parsed.rar[-1] == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    # 2025's result (-50 000 + 1 234.56 + 99.50 = -48 665.94, i.e. a profit) sits on 2067.
    assert parsed.ib == {"1930": Decimal("48665.94"), "2067": Decimal("-48665.94")}
    assert sum(parsed.ib.values()) == 0
    # 48 665.94 + 200 000 - 39 426 - 0.01
    assert parsed.ub == {"1930": Decimal("209239.93"), "2067": Decimal("-48665.94")}
    assert parsed.res == {
        "3981": Decimal("-200000.00"),
        "6110": Decimal("0.01"),
        "7010": Decimal("30000.00"),
        "7510": Decimal("9426.00"),
    }
    assert sum(parsed.ub.values()) + sum(parsed.res.values()) == 0
    assert _file_vouchers(parsed) == _db_vouchers(2026)


def test_sie4i_of_part_of_an_open_year_holds_only_those_vouchers_and_no_balances(
    ledger: Ledger, tmp_path: Path
) -> None:
    start, end = dt.date(2026, 2, 1), dt.date(2026, 3, 31)
    data, summary = _export(
        tmp_path, ledger, year=2026, sie_type="4i", date_from=start, date_to=end
    )
    parsed = parse(data, expect_type="4I")

    assert summary.sie_type == "4I"
    assert not parsed.ib and not parsed.ub and not parsed.res
    assert _file_vouchers(parsed) == _db_vouchers(2026, start, end)
    assert [v.text for v in parsed.vouchers] == ["Löner februari projekt", QUIRKY_TEXT]
    assert parsed.vouchers[0].trans[0].objects == {1: "100", 6: "ESF-2005-1"}


def test_quote_backslash_and_swedish_letters_survive_the_cp437_round_trip(
    ledger: Ledger, tmp_path: Path
) -> None:
    data, _summary = _export(tmp_path, ledger, year=2026, sie_type="4I")

    line = next(raw for raw in data.split(b"\n") if raw.startswith(b"#VER") and b"Faktura" in raw)
    expected = 'Faktura \\"Glasögon\\" C:\\\\kvitton\\\\2026 åäö ÅÄÖ'.encode("cp437")
    assert expected in line
    assert "å".encode("cp437") == b"\x86" and b"\x86" in line  # CP437, not UTF-8 or Latin-1
    assert "å".encode() not in data
    parsed = parse(data)
    assert [v.text for v in parsed.vouchers if v.text.startswith("Faktura")] == [QUIRKY_TEXT]
    assert parsed.objects[(1, "100")] == "Ändamål"


def test_characters_cp437_lacks_are_transliterated_and_counted(
    ledger: Ledger, tmp_path: Path
) -> None:
    from accounting.ledger import Line

    ledger.book(
        "2026-04-01",
        "Avgift 5 € \u2013 bank",
        Line("6570", Decimal("5.00")),
        Line("1930", Decimal("-5.00")),
    )
    data, summary = _export(tmp_path, ledger, year=2026, sie_type="4I")
    parsed = parse(data)

    assert "Avgift 5 EUR - bank" in [v.text for v in parsed.vouchers]
    assert summary.replaced_characters == 2
    assert summary.warnings


def test_sie4_of_a_year_not_in_the_ledger_is_refused_and_writes_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    target = tmp_path / "none.se"
    with pytest.raises(ExportRefused, match="no fiscal year 2030"):
        export_sie_file(target, year=2030, sie_type="4", actor=ledger.treasurer)

    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_sie4_over_part_of_a_year_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    ledger.close_year(2025)
    with pytest.raises(ExportRefused, match="whole year"):
        export_sie_file(
            tmp_path / "x.se",
            year=2025,
            sie_type="4",
            date_from=dt.date(2025, 3, 1),
            date_to=dt.date(2025, 3, 31),
        )


def test_a_year_without_books_and_a_range_outside_the_year_are_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    with pytest.raises(ExportRefused, match="no fiscal year 2019"):
        export_sie_file(tmp_path / "x.se", year=2019, sie_type="4I")
    with pytest.raises(ExportRefused, match="not within the fiscal year"):
        export_sie_file(tmp_path / "x.se", year=2026, sie_type="4I", date_from=dt.date(2025, 12, 1))


def test_sie4i_without_vouchers_in_the_range_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(ExportRefused, match="at least one voucher"):
        export_sie_file(
            tmp_path / "x.se",
            year=2026,
            sie_type="4I",
            date_from=dt.date(2026, 6, 1),
            date_to=dt.date(2026, 6, 30),
        )
    assert list(tmp_path.iterdir()) == []


def _unbalanced_voucher(ledger: Ledger) -> Voucher:
    """Write an unbalanced voucher past the services and the database guards (dropped for
    the moment, inside the test's transaction): what the export must never pass on."""
    from django.db import connection
    from django.utils import timezone

    from accounting import db_guards
    from accounting.models import Account, FiscalYear, VoucherSeal
    from fund.money import sek

    db_guards.uninstall(connection)

    voucher = Voucher.objects.create(
        fiscal_year=FiscalYear.objects.get(start__year=2026),
        series="A",
        number=99,
        date=dt.date(2026, 3, 20),
        text="Trasig",
        created_at=timezone.now(),
    )
    Posting.objects.bulk_create(
        [
            Posting(
                voucher=voucher,
                seal_id=voucher.pk,
                account=Account.objects.get(number="6110"),
                amount=sek("100.00"),  # type: ignore[misc]
            ),
            Posting(
                voucher=voucher,
                seal_id=voucher.pk,
                account=Account.objects.get(number="1930"),
                amount=sek("-90.00"),  # type: ignore[misc]
            ),
        ]
    )
    VoucherSeal.objects.create(voucher=voucher, sealed_at=timezone.now())
    db_guards.install(connection)
    return voucher


def test_an_unbalanced_voucher_refuses_the_export_naming_it(ledger: Ledger, tmp_path: Path) -> None:
    _unbalanced_voucher(ledger)
    with pytest.raises(ExportRefused, match="A99") as refused:
        export_sie_file(tmp_path / "x.se", year=2026, sie_type="4I")

    assert "do not balance" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_the_streaming_check_also_refuses_an_unbalanced_voucher(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unbalanced_voucher(ledger)
    monkeypatch.setattr(sie, "unbalanced_vouchers", lambda vouchers: [])
    with pytest.raises(ExportRefused, match="A99 does not balance"):
        export_sie_file(tmp_path / "x.se", year=2026, sie_type="4I")
    assert list(tmp_path.iterdir()) == []


def test_the_strict_parser_refuses_broken_files() -> None:
    good = b'#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n#FNAMN "X"\n'
    parse(good)
    with pytest.raises(SieSyntaxError, match="LF"):
        parse(good.replace(b"\n", b"\r\n"))
    with pytest.raises(SieSyntaxError, match="first"):
        parse(b"#FORMAT PC8\n#FLAGGA 0\n")
    with pytest.raises(SieSyntaxError, match="backslash"):
        parse(good + b'#RAR 0 20260101 20261231\n#KONTO 1930 "a\\b"\n')
    with pytest.raises(SieSyntaxError, match="out of order"):
        parse(good + b'#KONTO 1930 "Bank"\n#RAR 0 20260101 20261231\n')
    with pytest.raises(SieSyntaxError, match="bad amount"):
        parse(good + b'#RAR 0 20260101 20261231\n#KONTO 1930 "Bank"\n#IB 0 1930 1,000.00\n')
    with pytest.raises(SieSyntaxError, match="does not balance"):
        parse(good + b'#VER "A" 1 20260101 "t"\n{\n#TRANS 1930 {} 1.00\n#TRANS 3993 {} -0.99\n}\n')


def test_export_sie_command_writes_the_file_and_audits_counts_and_hash(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.close_year(2025)
    target = tmp_path / "books.se"
    call_command(
        "export_sie",
        "--year",
        "2025",
        "--output",
        str(target),
        "--user",
        ledger.treasurer.username,
    )
    parse(target.read_bytes())
    event = AuditEvent.objects.filter(action="export.sie").get()
    assert event.actor_id == ledger.treasurer.pk and event.actor_role == "treasurer"
    assert event.payload["vouchers"] == 3 and event.payload["sie_type"] == "4"
    assert len(event.payload["sha256"]) == 64


def test_export_sie_command_shows_the_refusal(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no fiscal year 2030"):
        call_command("export_sie", "--year", "2030", "--output", str(tmp_path / "x.se"))
    assert not AuditEvent.objects.filter(action="export.sie").exists()


def test_an_officer_may_not_export_the_books(ledger: Ledger, tmp_path: Path) -> None:
    from core.exceptions import PermissionDenied
    from tests.factories import UserFactory

    officer = UserFactory(roles=["officer"])
    with pytest.raises(PermissionDenied):
        export_sie_file(tmp_path / "x.se", year=2026, sie_type="4I", actor=officer)


def test_an_export_that_cannot_be_audited_is_not_left_behind(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accounting.exports import files
    from audit.services import AuditPayloadError

    def refuse(**kwargs: object) -> None:
        raise AuditPayloadError("refused")

    monkeypatch.setattr(files, "record_event", refuse)
    with pytest.raises(AuditPayloadError):
        export_sie_file(tmp_path / "x.se", year=2026, sie_type="4I")
    assert list(tmp_path.iterdir()) == []
