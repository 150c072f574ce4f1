"""SIE years and chart: #RAR -1 is the year immediately before, #KPTYP names the chart,
type 4 of an open year is preliminary (balances as of the export date), and the demo's
files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from accounting.exports.services import export_sie_file
from accounting.ledger import fiscal_year_for
from accounting.models import Voucher, YearEndClosing
from audit.models import AuditEvent
from tests.exports.conftest import Ledger
from tests.exports.sie_parser import parse

pytestmark = pytest.mark.django_db


def _file(tmp_path: Path, actor, **kw) -> bytes:  # type: ignore[no-untyped-def]
    target = tmp_path / "out.se"
    export_sie_file(target, actor=actor, **kw)
    return target.read_bytes()


def test_rar_minus_one_is_the_fiscal_year_immediately_before_even_without_vouchers(
    ledger: Ledger, tmp_path: Path
) -> None:
    fiscal_year_for(dt.date(2020, 1, 1))  # an older year must not stand in for 2025

    parsed_2026 = parse(_file(tmp_path, ledger.treasurer, year=2026, sie_type="4I"))
    parsed_2025 = parse(_file(tmp_path, ledger.treasurer, year=2025, sie_type="4I"))

    assert parsed_2026.rar[-1] == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    # 2024 has no vouchers and no fiscal year in the ledger: its dates all the same.
    assert parsed_2025.rar[-1] == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def test_kptyp_names_the_bas_version_the_chart_follows(
    ledger: Ledger, tmp_path: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    assert parse(_file(tmp_path, ledger.treasurer, year=2026, sie_type="4I")).kptyp == "BAS2026"
    settings.LEDGER_CHART_TYPE = "BAS2024"
    assert parse(_file(tmp_path, ledger.treasurer, year=2026, sie_type="4I")).kptyp == "BAS2024"


def test_sie4_of_an_open_year_is_preliminary_without_being_asked(
    ledger: Ledger, tmp_path: Path
) -> None:
    parsed = parse(
        _file(tmp_path, ledger.treasurer, year=2026, sie_type="4", as_of=dt.date(2026, 12, 31)),
        expect_type="4",
    )

    assert parsed.ub and parsed.res and parsed.omfattn == dt.date(2026, 12, 31)
    event = AuditEvent.objects.filter(action="export.sie").latest("pk")
    assert event.payload["preliminary"] is True


def test_the_demos_2026_sie_files_pass_the_strict_check_and_2006_is_closed(
    tmp_path: Path,
) -> None:
    from demo.seed import seed

    seed(lambda _line: None)
    treasurer = YearEndClosing.objects.get(fiscal_year__start__year=2006).approved_by

    for sie_type, kw in (("4I", {}), ("4", {"preliminary": True})):
        parsed = parse(
            _file(tmp_path, treasurer, year=2026, sie_type=sie_type, **kw), expect_type=sie_type
        )
        assert parsed.rar[0] == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        assert parsed.rar[-1] == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        assert parsed.kptyp == "BAS2026"

    closings = YearEndClosing.objects.filter(locked_at__isnull=False)
    assert sorted(c.fiscal_year.start.year for c in closings) == [2005, 2006, 2007, 2008]
    # 150 000 given to Barnfonden in 2006, 62 400 of it granted: 87 600 kept on 2071.
    transfer = Voucher.objects.get(
        fiscal_year__start__year=2006, series="E", text__startswith="Ändamålsbestämda"
    )
    assert sorted((p.account.number, p.amount.amount) for p in transfer.postings.all()) == [
        ("2067", 87600),
        ("2071", -87600),
    ]
    parsed_2006 = parse(_file(tmp_path, treasurer, year=2006, sie_type="4"), expect_type="4")
    parsed_2007 = parse(_file(tmp_path, treasurer, year=2007, sie_type="4"), expect_type="4")
    assert parsed_2007.ib == parsed_2006.ub


def test_a_balanced_voucher_is_not_refused_for_sums_a_float_cannot_hold(
    ledger: Ledger, tmp_path: Path
) -> None:
    """SQLite adds decimals as binary floats; the export's balance check must count in öre."""
    from decimal import Decimal

    from accounting.ledger import Line, post_voucher

    post_voucher(
        series="A",
        text="ESF upplupen test",
        lines=[
            Line("2880", Decimal("167248.48")),
            Line("1790", Decimal("338994.32")),
            Line("3981", Decimal("-506242.80")),
        ],
        actor=ledger.treasurer,
        date=dt.date(2026, 3, 1),
    )
    parsed = parse(_file(tmp_path, ledger.treasurer, year=2026, sie_type="4I"))
    assert parsed.rar[0] == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
