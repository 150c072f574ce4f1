"""SIE 4 of an open year (issue #19, item 5): exported as bookkeeping programs do, preliminary,
with the vouchers and balances as of the export date; a closed year's export is unchanged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting.exports.services import export_sie_file
from accounting.ledger import Line, close_period, fiscal_year_for, post_voucher
from accounting.models import Period
from audit.models import AuditEvent
from tests.exports.sie_parser import SieFile, parse
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 30)


def _book(treasurer: Any, date: str, amount: str, expense: str = "3993") -> None:
    post_voucher(
        series="A",
        text=f"Gåva {date}",
        lines=[Line("1930", Decimal(amount)), Line(expense, -Decimal(amount))],
        actor=treasurer,
        date=dt.date.fromisoformat(date),
    )


@pytest.fixture
def treasurer() -> Any:
    return UserFactory(roles=["treasurer"])


@pytest.fixture
def open_year(treasurer: Any) -> None:
    """2025 booked and closed; 2026 open, with vouchers before and after ``AS_OF``."""
    _book(treasurer, "2025-05-10", "1000.00")
    fiscal_year_for(dt.date(2025, 1, 1))
    for period in Period.objects.filter(start__year=2025).order_by("start"):
        close_period(period, actor=treasurer)
    _book(treasurer, "2026-02-01", "200.00")
    _book(treasurer, "2026-06-30", "30.50")
    _book(treasurer, "2026-09-15", "4000.00")  # after the export date: not in the file


def _export(tmp_path: Path, treasurer: Any, **kw: Any) -> SieFile:
    target = tmp_path / "open.se"
    export_sie_file(target, year=2026, sie_type="4", actor=treasurer, **kw)
    return parse(target.read_bytes(), expect_type="4")


def test_sie4_of_an_open_year_is_exported_with_balances_as_of_the_export_date(
    open_year: None, treasurer: Any, tmp_path: Path
) -> None:
    parsed = _export(tmp_path, treasurer, as_of=AS_OF)

    assert parsed.ib == {"1930": Decimal("1000.00"), "2067": Decimal("-1000.00")}
    assert parsed.ub["1930"] == Decimal("1230.50")
    assert parsed.res == {"3993": Decimal("-230.50")}
    assert [v.date for v in parsed.vouchers] == [dt.date(2026, 2, 1), dt.date(2026, 6, 30)]


def test_the_open_years_sie4_trial_balance_sums_to_zero(
    open_year: None, treasurer: Any, tmp_path: Path
) -> None:
    parsed = _export(tmp_path, treasurer, as_of=AS_OF)

    assert sum(parsed.ib.values()) == 0
    assert sum(parsed.ub.values()) + sum(parsed.res.values()) == 0


def test_the_open_years_sie4_says_in_its_header_that_it_is_preliminary(
    open_year: None, treasurer: Any, tmp_path: Path
) -> None:
    parsed = _export(tmp_path, treasurer, as_of=AS_OF)

    assert parsed.omfattn == AS_OF
    assert "Preliminary" in parsed.prosa and "2026-06-30" in parsed.prosa
    event = AuditEvent.objects.filter(action="export.sie").latest("pk")
    assert event.payload["preliminary"] is True and event.payload["as_of"] == "2026-06-30"


def test_the_closed_years_sie4_is_the_year_closing_export_unchanged(
    open_year: None, treasurer: Any, tmp_path: Path
) -> None:
    target = tmp_path / "closed.se"
    export_sie_file(target, year=2025, sie_type="4", actor=treasurer)
    parsed = parse(target.read_bytes(), expect_type="4")

    assert parsed.prosa == "" and parsed.omfattn is None
    assert parsed.ub == {"1930": Decimal("1000.00")}
    assert parsed.res == {"3993": Decimal("-1000.00")}
    assert (
        AuditEvent.objects.filter(action="export.sie").latest("pk").payload["preliminary"] is False
    )


def test_sie4_of_the_current_open_year_is_not_refused_and_runs_to_today(
    treasurer: Any, tmp_path: Path
) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    _book(treasurer, today.isoformat(), "75.00")
    target = tmp_path / "today.se"
    summary = export_sie_file(target, year=today.year, sie_type="4", actor=treasurer)
    parsed = parse(target.read_bytes(), expect_type="4")

    assert summary.preliminary and parsed.omfattn == today
    assert parsed.ub["1930"] == Decimal("75.00") and len(parsed.vouchers) == 1
