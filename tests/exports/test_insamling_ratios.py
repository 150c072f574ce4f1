"""90-konto ratios: purpose, fundraising and administration as shares of total income."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from accounting.exports.ratios import insamling_ratios
from accounting.ledger import Line
from tests.exports.conftest import Ledger

pytestmark = pytest.mark.django_db


def _year_2027(ledger: Ledger, fundraising: str) -> None:
    cost_centres = {cc.code: cc for cc in (ledger.purpose, ledger.admin_cc)}
    from accounting.models import DimensionObject

    insamling = DimensionObject.objects.get(dimension__number=1, code="200")
    ledger.book(
        "2027-01-10",
        "Gåvor",
        Line("1930", D("100000"), fund=ledger.fund),
        Line("3993", D("-100000"), fund=ledger.fund),
        series="B",
    )
    ledger.book("2027-02-01", "Bidrag", Line("6710", D("70000")), Line("1930", D("-70000")))
    ledger.book(
        "2027-02-02",
        "Projektlön",
        Line("7010", D("10000"), project=ledger.project),
        Line("1930", D("-10000")),
    )
    ledger.book(
        "2027-02-03",
        "Kontor ändamål",
        Line("6110", D("2000"), cost_centre=cost_centres["100"]),
        Line("1930", D("-2000")),
    )
    ledger.book(
        "2027-02-04",
        "Insamlingskampanj",
        Line("6110", D(fundraising), cost_centre=insamling),
        Line("1930", D(f"-{fundraising}")),
    )
    ledger.book("2027-02-05", "Bankavgift", Line("6570", D("3000")), Line("1930", D("-3000")))


def test_ratios_by_cost_centre_account_and_project(ledger: Ledger) -> None:
    _year_2027(ledger, "5000")
    ratios = insamling_ratios(2027)
    # purpose 70 000 (6710) + 10 000 (project) + 2 000 (cost centre 100) = 82 000
    assert ratios.income == D("100000.00")
    assert ratios.costs == {
        "purpose": D("82000.00"),
        "fundraising": D("5000.00"),
        "administration": D("3000.00"),
    }
    assert ratios.percent("purpose") == D("82.00")
    assert ratios.flags == []


def test_purpose_below_75_percent_is_flagged(ledger: Ledger) -> None:
    ratios = insamling_ratios(2026)
    # 2026 in the fixture: income 200 000 (3981); purpose 39 426 (cost centre 100),
    # administration 0.01 (cost centre 300).
    assert ratios.income == D("200000.00")
    assert ratios.costs["purpose"] == D("39426.00")
    assert ratios.percent("purpose") == D("19.71")
    assert len(ratios.flags) == 1 and "below the required 75" in ratios.flags[0]


def test_fundraising_and_administration_above_25_percent_is_flagged(ledger: Ledger) -> None:
    _year_2027(ledger, "25000")
    ratios = insamling_ratios(2027)
    assert ratios.percent("fundraising") == D("25.00")
    assert any("above 25" in flag for flag in ratios.flags)


def test_command_prints_the_ratios_and_the_flags(ledger: Ledger) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("insamling_ratios", "--year", "2026", stdout=out, stderr=err)
    assert "19.71 %" in out.getvalue()
    assert "75" in err.getvalue()
    err2 = io.StringIO()
    call_command("insamling_ratios", "--year", "2019", stdout=io.StringIO(), stderr=err2)
    assert "no income" in err2.getvalue()
