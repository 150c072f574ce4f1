"""Review 16b: the books across a year-end and across a remapped chart role.

Hand-computed, one fund (``world.fund``, restricted account 2070):

2023 (``_book_year``): gift 100 000 (3993), grants 30 000 (6710), bank cost 500 (6570, no
fund). Result -69 500 (a surplus): the year-end books 8999 debit 69 500 / 2069 credit.
90-konto: income 100 000, purpose 30 000 (30 %), administration 500 (0.5 %).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from accounting import ledger
from accounting.chart import accounts_of, apply_mapping, chart_problems, recorded_mapping
from accounting.exports.ratios import insamling_ratios
from accounting.ledger import Line, fiscal_year_for, post_voucher
from accounting.models import Account, AccountType, Posting, VoucherSeries
from accounting.restricted_funds import restricted_funds
from core.exceptions import ValidationFailed
from tests.accounting.conftest import new_fund
from tests.accounting.test_chart_remap import move_balance
from tests.accounting.test_year_end import _book_year, _close

pytestmark = pytest.mark.django_db

D = Decimal


def test_the_90_konto_ratios_of_a_closed_year_do_not_count_its_result_as_a_cost(world) -> None:  # type: ignore[no-untyped-def]
    """Closing 2023 books its surplus 69 500 on 8999 (an expense account) against 2069. The
    90-konto ratios must not change: administration stays 500 (0.50 %), not 70 000 (70 %).
    The demo shows the same: 2006's administration is exactly its result (145 822.30) and
    2007's only "cost" is its result, 100 % administration, "above 25 %"."""
    _book_year(world, 2023, "100000", "30000", bank_cost="500")
    before = insamling_ratios(2023)
    assert before.costs["administration"] == D("500.00")

    _close(world, 2023)

    after = insamling_ratios(2023)
    assert after.costs == before.costs
    assert after.percent("administration") == D("0.50")


def test_grants_on_a_remapped_grants_paid_account_are_purpose_costs_in_the_90_konto_ratios(
    world,  # type: ignore[no-untyped-def]
) -> None:
    """The foundation maps ``grants_paid`` to its own purpose-cost account 6790 (README: "map
    the accounts to a foundation's own chart"). A grant of 1 500 decided under that mapping is
    still a purpose cost, not administration."""
    Account.objects.create(number="6790", name="Lämnade bidrag (egen)", type=AccountType.EXPENSE)
    fund = new_fund(world, "rmp")
    ledger.record_income(fund, "10000", kind="donation", actor=world.treasurer, reference="G-1")
    with override_settings(LEDGER_ACCOUNTS={"grants_paid": "6790"}):
        apply_mapping(actor=world.treasurer)
        world.to_approved(world.new_application("1500", fund=fund))

    ratios = insamling_ratios(timezone.localdate().year)
    assert ratios.costs["purpose"] == D("1500.00")
    assert ratios.costs["administration"] == D("0.00")


def test_a_remap_of_grants_paid_waits_for_the_year_end_of_the_year_booked_on_the_old_account(
    world,  # type: ignore[no-untyped-def]
) -> None:
    """10 000 given, 1 500 decided on 6710 (the BAS default) this year. Mapping
    ``grants_paid`` to 6790 now would split the year's "used" over two accounts: the remap is
    refused (remap after the year-end), nothing is recorded, and "used" stays 1 500."""
    Account.objects.create(number="6790", name="Lämnade bidrag (egen)", type=AccountType.EXPENSE)
    fund = new_fund(world, "rmu")
    ledger.record_income(fund, "10000", kind="donation", actor=world.treasurer, reference="G-1")
    world.to_approved(world.new_application("1500", fund=fund))
    year = fiscal_year_for(timezone.localdate())

    with override_settings(LEDGER_ACCOUNTS={"grants_paid": "6790"}):
        with pytest.raises(ValidationFailed) as refused:
            apply_mapping(actor=world.treasurer)
        assert refused.value.messages == [
            f"grants_paid: account 6710 has postings in {year.start:%Y}, not closed yet; "
            "remap after that year-end, so that a year is booked on one account."
        ]
        [row] = [r for r in restricted_funds(year) if r.fund == fund]

    assert recorded_mapping()["grants_paid"] == "6710"
    assert (row.gifts, row.used, row.closing) == (D("10000.00"), D("1500.00"), D("8500.00"))


def test_grants_decided_before_a_remap_of_grants_paid_still_count_as_used(world) -> None:  # type: ignore[no-untyped-def]
    """2023 (``_book_year``): 100 000 given, 30 000 used on 6710, closed and locked. Then
    ``grants_paid`` moves to 6790 and 1 500 is decided on it this year. 2023 still used
    30 000 (read on 6710), this year 1 500 (on 6790)."""
    Account.objects.create(number="6790", name="Lämnade bidrag (egen)", type=AccountType.EXPENSE)
    _book_year(world, 2023, "100000", "30000")
    _close(world, 2023)

    with override_settings(LEDGER_ACCOUNTS={"grants_paid": "6790"}):
        apply_mapping(actor=world.treasurer)
        world.to_approved(world.new_application("1500"))
        earlier = fiscal_year_for(dt.date(2023, 1, 1))
        [old] = [r for r in restricted_funds(earlier) if r.fund == world.fund]
        this_year = fiscal_year_for(timezone.localdate())
        [new] = [r for r in restricted_funds(this_year) if r.fund == world.fund]

    assert (old.gifts, old.used, old.closing) == (D("100000.00"), D("30000.00"), D("70000.00"))
    assert new.used == D("1500.00")
    assert Posting.objects.filter(account__number="6790").count() == 1


def test_remapping_a_role_a_second_time_is_refused_while_the_previous_account_holds_a_balance(
    world,  # type: ignore[no-untyped-def]
) -> None:
    """``accrued_income`` is mapped to 1791 and 100 is accrued there; mapping it on to 1792
    is refused while 1791 holds the 100, and applied once a manual voucher moved it."""
    for number in ("1791", "1792"):
        Account.objects.create(number=number, name=f"Upplupna {number}", type=AccountType.ASSET)
    with override_settings(LEDGER_ACCOUNTS={"accrued_income": "1791"}):
        apply_mapping(actor=world.treasurer)
        post_voucher(
            series=VoucherSeries.MANUAL,
            text="Upplupen intakt test",
            lines=[Line("1791", D("100")), Line("3981", D("-100"))],
            actor=world.treasurer,
        )
    with override_settings(LEDGER_ACCOUNTS={"accrued_income": "1792"}):
        assert [p for p in chart_problems() if "1791" in p]
        with pytest.raises(ValidationFailed, match=r"account 1791 still holds 100\.00"):
            apply_mapping(actor=world.treasurer)
        move_balance("1791", "1792", world.treasurer)
        apply_mapping(actor=world.treasurer)
        assert chart_problems() == []
    assert accounts_of("accrued_income") == ("1790", "1791", "1792")


def test_remapping_the_bank_account_is_refused_until_each_funds_balance_is_moved(world) -> None:  # type: ignore[no-untyped-def]
    """10 000 received on 1930 for the fund. The foundation maps ``bank`` to its own 1941:
    refused while 1930 holds the fund's money; once a manual voucher moved each fund's
    balance, applied, and the fund still has 10 000 in the bank."""
    Account.objects.create(number="1941", name="Bank (egen)", type=AccountType.ASSET)
    fund = new_fund(world, "rmb")
    ledger.record_income(fund, "10000", kind="donation", actor=world.treasurer, reference="G-1")
    with override_settings(LEDGER_ACCOUNTS={"bank": "1941"}):
        with pytest.raises(ValidationFailed) as refused:
            apply_mapping(actor=world.treasurer)
        [message] = refused.value.messages
        assert "bank: account 1930 still holds" in message
        assert "10000.00 (fund RMB)" in message
        move_balance("1930", "1941", world.treasurer)
        apply_mapping(actor=world.treasurer)
        balance = ledger.fund_bank_balance(fund).amount
    assert balance == D("10000.00")


def test_the_year_end_of_a_year_with_a_release_of_an_earlier_years_grant(world) -> None:  # type: ignore[no-untyped-def]
    """Held: a grant decided in 2023 (cost 2023) and released in 2024 (negative cost 2024)
    counts as used in 2023 and as given back in 2024; the restricted account follows."""
    _book_year(world, 2023, "100000", "30000")
    _close(world, 2023)
    post_voucher(
        series=VoucherSeries.MANUAL,
        text="Aterfort bidrag 2023",
        lines=[
            Line("1930", D("5000"), fund=world.fund),
            Line("6710", D("-5000"), fund=world.fund),
        ],
        actor=world.treasurer,
        date=dt.date(2024, 3, 1),
    )
    [row] = [
        r for r in restricted_funds(fiscal_year_for(dt.date(2024, 1, 1))) if r.fund == world.fund
    ]
    # opening 70 000, gifts 0, used -5 000: 75 000 restricted at the end of 2024
    assert (row.opening, row.used, row.closing, row.transfer) == (
        D("70000.00"),
        D("-5000.00"),
        D("75000.00"),
        D("5000.00"),
    )
