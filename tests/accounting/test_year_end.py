"""Closing a year: restricted funds, result, two treasurers, a locked year, #IB = #UB.

Hand-computed ledger (fund ``allmant``, restricted account 2070):

2023: gift 100 000 (3993), grants 30 000 (6710), bank cost 500 (6570, no fund).
  restricted: opening 0, gifts 100 000, used 30 000, closing 70 000 -> transfer +70 000
  (2067 debit / 2070 credit). Result: -100 000 + 30 000 + 500 = -69 500 (a surplus):
  8999 debit 69 500 / 2069 credit 69 500 on 2023-12-31; 2069 debit / 2067 credit on 2024-01-01.
2024: gift 10 000, grants 50 000. opening 70 000, closing max(0, 70 000 + 10 000 - 50 000)
  = 30 000 -> transfer -40 000 (2070 debit / 2067 credit: released back).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounting import year_end
from accounting.exports import sie
from accounting.ledger import Line, close_period, fiscal_year_for, post_voucher, record_income
from accounting.models import (
    BankException,
    BankExceptionKind,
    FiscalYear,
    Period,
    Posting,
    Voucher,
    VoucherSeries,
    YearEndClosing,
)
from accounting.restricted_funds import restricted_funds
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

D = Decimal


def _book_year(world, year: int, gift: str, used: str, bank_cost: str | None = None) -> None:  # type: ignore[no-untyped-def]
    record_income(
        world.fund,
        gift,
        kind="donation",
        actor=world.treasurer,
        reference=f"GIFT-{year}",
        date=dt.date(year, 2, 10),
    )
    post_voucher(
        series=VoucherSeries.MANUAL,
        text=f"Bidrag {year}",
        lines=[Line("6710", D(used), fund=world.fund), Line("1930", -D(used), fund=world.fund)],
        actor=world.treasurer,
        date=dt.date(year, 5, 5),
    )
    if bank_cost:
        post_voucher(
            series=VoucherSeries.MANUAL,
            text=f"Bankkostnad {year}",
            lines=[Line("6570", D(bank_cost)), Line("1930", -D(bank_cost))],
            actor=world.treasurer,
            date=dt.date(year, 6, 30),
        )


def _close_periods(world, year: int) -> FiscalYear:  # type: ignore[no-untyped-def]
    fy = fiscal_year_for(dt.date(year, 1, 1))
    for period in Period.objects.filter(fiscal_year=fy).order_by("start"):
        close_period(period, actor=world.treasurer)
    return fy


def _close(world, year: int) -> YearEndClosing:  # type: ignore[no-untyped-def]
    fy = _close_periods(world, year)
    year_end.prepare_year_end(fy, actor=world.treasurer)
    return year_end.approve_year_end(fy, actor=world.treasurer2)


def _postings(voucher: Voucher) -> list[tuple[str, Decimal, str | None]]:
    return sorted(
        (p.account.number, p.amount.amount, p.fund_object.code if p.fund_object else None)
        for p in voucher.postings.select_related("account", "fund_object")
    )


def _year_vouchers(year: int, series: str = "E") -> list[Voucher]:
    return list(
        Voucher.objects.filter(fiscal_year__start__year=year, series=series).order_by("number")
    )


def _restricted_capital_then_grants(world) -> None:  # type: ignore[no-untyped-def]
    """2023: a restricted opening balance of 50 000 booked in the year, 30 000 granted."""
    record_income(
        world.fund,
        "50000",
        kind="restricted_capital",
        actor=world.treasurer,
        reference="IB-2023-1",
        date=dt.date(2023, 1, 2),
    )
    post_voucher(
        series=VoucherSeries.MANUAL,
        text="Bidrag 2023",
        lines=[
            Line("6710", D("30000"), fund=world.fund),
            Line("1930", D("-30000"), fund=world.fund),
        ],
        actor=world.treasurer,
        date=dt.date(2023, 5, 5),
    )


def test_unused_restricted_gifts_move_to_the_funds_restricted_account_at_year_end(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000", bank_cost="500")
    fy = fiscal_year_for(dt.date(2023, 1, 1))
    [row] = [r for r in restricted_funds(fy) if r.fund == world.fund]
    assert (row.opening, row.gifts, row.used, row.closing, row.transfer) == (
        D("0.00"),
        D("100000.00"),
        D("30000.00"),
        D("70000.00"),
        D("70000.00"),
    )

    closing = _close(world, 2023)

    assert closing.is_locked and closing.approved_by == world.treasurer2
    transfer, result = _year_vouchers(2023)
    code = world.fund.accounting_dimension
    assert transfer.date == result.date == dt.date(2023, 12, 31)
    assert _postings(transfer) == [("2067", D("70000.00"), code), ("2070", D("-70000.00"), code)]
    assert _postings(result) == [("2069", D("-69500.00"), None), ("8999", D("69500.00"), None)]
    [disposition] = _year_vouchers(2024)
    assert disposition.date == dt.date(2024, 1, 1)
    assert _postings(disposition) == [("2067", D("-69500.00"), None), ("2069", D("69500.00"), None)]
    assert AuditEvent.objects.filter(action="ledger.year_end_approved").count() == 1


def test_what_a_fund_used_beyond_its_gifts_is_released_back_to_retained_capital(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    _close(world, 2023)
    _book_year(world, 2024, "10000", "50000")
    fy = fiscal_year_for(dt.date(2024, 1, 1))
    [row] = [r for r in restricted_funds(fy) if r.fund == world.fund]
    assert (row.opening, row.gifts, row.used, row.closing, row.transfer) == (
        D("70000.00"),
        D("10000.00"),
        D("50000.00"),
        D("30000.00"),
        D("-40000.00"),
    )

    _close(world, 2024)

    transfer = _year_vouchers(2024)[1]  # after the disposition of 2023 on 2024-01-01
    code = world.fund.accounting_dimension
    assert _postings(transfer) == [("2067", D("-40000.00"), code), ("2070", D("40000.00"), code)]
    restricted = sum(
        p.amount.amount
        for p in Posting.objects.filter(account__number="2070", fund_object__code=code)
    )
    assert restricted == D("-30000.00")


def test_a_closed_year_refuses_vouchers_in_python_and_in_the_database(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    closing = _close(world, 2023)
    fy = closing.fiscal_year

    for series in (VoucherSeries.MANUAL, VoucherSeries.YEAR_END):
        with pytest.raises(ValidationFailed, match="2023 is closed"):
            post_voucher(
                series=series,
                text="Efterhandsbokning",
                lines=[Line("6570", D("1")), Line("1930", D("-1"))],
                actor=world.treasurer,
                date=dt.date(2023, 12, 31),
                year_end_window=series == VoucherSeries.YEAR_END,
            )
    for raw_series in ("A", "E"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Voucher.objects.create(
                fiscal_year=fy,
                series=raw_series,
                number=99,
                date=dt.date(2023, 12, 31),
                text="Rå SQL",
                created_at=timezone.now(),
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.create(
            fiscal_year=fy, start=dt.date(2023, 12, 31), end=dt.date(2023, 12, 31)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        YearEndClosing.objects.filter(pk=closing.pk).update(locked_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        YearEndClosing.objects.filter(pk=closing.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.filter(fiscal_year=fy).update(closed_at=None)


def test_a_year_end_voucher_enters_a_closed_period_only_during_the_approval(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    fy = _close_periods(world, 2023)
    year_end.prepare_year_end(fy, actor=world.treasurer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(
            fiscal_year=fy,
            series="E",
            number=99,
            date=dt.date(2023, 12, 31),
            text="Rå SQL",
            created_at=timezone.now(),
        )
    with pytest.raises(ValidationFailed, match="closed"):
        post_voucher(
            series=VoucherSeries.YEAR_END,
            text="Före godkännandet",
            lines=[Line("6570", D("1")), Line("1930", D("-1"))],
            actor=world.treasurer,
            date=dt.date(2023, 12, 31),
            year_end_window=True,
        )


def test_next_years_opening_balances_equal_the_closed_years_closing_balances(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000", bank_cost="500")
    _close(world, 2023)
    _book_year(world, 2024, "10000", "50000")

    _ib_2023, ub_2023, res_2023 = sie.balances(fiscal_year_for(dt.date(2023, 1, 1)))
    ib_2024, _ub, _res = sie.balances(fiscal_year_for(dt.date(2024, 1, 1)))

    assert ib_2024 == ub_2023
    assert ub_2023 == {
        "1930": D("69500.00"),
        "2067": D("70000.00"),
        "2069": D("-69500.00"),
        "2070": D("-70000.00"),
    }
    assert sum(res_2023.values()) == 0  # the result voucher leaves the result accounts at 0


def test_the_treasurer_who_prepared_the_year_end_cannot_approve_it(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    fy = _close_periods(world, 2023)
    year_end.prepare_year_end(fy, actor=world.treasurer)

    with pytest.raises(PermissionDenied, match="second treasurer"):
        year_end.approve_year_end(fy, actor=world.treasurer)
    with pytest.raises(PermissionDenied):
        year_end.prepare_year_end(fy, actor=world.officer)
    assert not _year_vouchers(2023)
    assert YearEndClosing.objects.get(fiscal_year=fy).locked_at is None


def test_an_administrator_neither_prepares_nor_approves_a_year_end(world) -> None:  # type: ignore[no-untyped-def]
    """Two treasurers close a year: an administrator (who may book elsewhere) is not one."""
    _book_year(world, 2023, "100000", "30000")
    fy = _close_periods(world, 2023)
    with pytest.raises(PermissionDenied, match="Only a treasurer may prepare"):
        year_end.prepare_year_end(fy, actor=world.admin)
    year_end.prepare_year_end(fy, actor=world.treasurer)
    with pytest.raises(PermissionDenied, match="Only a treasurer may approve"):
        year_end.approve_year_end(fy, actor=world.admin)
    assert YearEndClosing.objects.get(fiscal_year=fy).locked_at is None


def test_approving_a_closed_year_again_books_nothing_new(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    closing = _close(world, 2023)
    before = Voucher.objects.count()

    again = year_end.approve_year_end(closing.fiscal_year, actor=world.treasurer2)

    assert again.locked_at == closing.locked_at
    assert Voucher.objects.count() == before
    with pytest.raises(ValidationFailed, match="already approved"):
        year_end.prepare_year_end(closing.fiscal_year, actor=world.treasurer)


def test_years_are_closed_in_order(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    _close_periods(world, 2023)
    _book_year(world, 2022, "1000", "100")  # an earlier year appears, not closed
    fy = fiscal_year_for(dt.date(2023, 1, 1))
    with pytest.raises(ValidationFailed, match="2022 first"):
        year_end.prepare_year_end(fy, actor=world.treasurer)


def test_the_approval_refuses_when_the_books_changed_since_preparing(world) -> None:  # type: ignore[no-untyped-def]
    _book_year(world, 2023, "100000", "30000")
    fy = fiscal_year_for(dt.date(2023, 1, 1))
    for period in Period.objects.filter(fiscal_year=fy).order_by("start")[:11]:
        close_period(period, actor=world.treasurer)
    with pytest.raises(
        ValidationFailed, match="1 periods of the year are still open, the first 2023-12"
    ):
        year_end.prepare_year_end(fy, actor=world.treasurer)
    # Prepared with all periods closed, then the closing is compared with a changed ledger:
    close_period(Period.objects.get(start=dt.date(2023, 12, 1)), actor=world.treasurer)
    closing = year_end.prepare_year_end(fy, actor=world.treasurer)
    YearEndClosing.objects.filter(pk=closing.pk).update(
        figures={**closing.figures, "vouchers": closing.figures["vouchers"] - 1}
    )
    with pytest.raises(ValidationFailed, match="changed since the year-end was prepared"):
        year_end.approve_year_end(fy, actor=world.treasurer2)
    assert not _year_vouchers(2023)


def test_the_year_end_waits_for_the_banks_answer_to_every_file_of_the_year(world) -> None:  # type: ignore[no-untyped-def]
    app = world.run(
        world.to_approved(world.new_application("900")), "schedule_payout", world.treasurer
    )
    batch = world.send_payouts(app)
    fy = _close_periods(world, batch.execution_date.year)

    with pytest.raises(ValidationFailed, match="bank has not answered"):
        year_end.prepare_year_end(fy, actor=world.treasurer)


def test_the_year_end_waits_for_every_open_bank_exception(world) -> None:  # type: ignore[no-untyped-def]
    app = world.to_paid(world.new_application("900"))
    voucher = post_voucher(
        series=VoucherSeries.MANUAL,
        text="Okänd bankhändelse",
        lines=[Line("1689", D("250")), Line("1930", D("-250"))],
        actor=world.treasurer,
        date=dt.date(2023, 3, 3),
    )
    BankException.objects.create(
        kind=BankExceptionKind.choices[0][0],
        order=app.payment_orders.get(),
        amount=D("250"),
        booking_date=dt.date(2023, 3, 3),
        voucher=voucher,
        recorded_by=world.treasurer,
        recorded_at=timezone.now(),
    )
    fy = _close_periods(world, 2023)

    with pytest.raises(ValidationFailed, match="bank exceptions of the year are open"):
        year_end.prepare_year_end(fy, actor=world.treasurer)


def test_restricted_funds_closing_equals_the_funds_restricted_account_after_year_end(world) -> None:  # type: ignore[no-untyped-def]
    """Hand-computed: 2023 opening balance of restricted funds 50 000 booked on 2023-01-02
    (1930 / 2070), no gifts, grants 30 000. Unused restricted funds at year end: 20 000, so
    the closing row says 20 000 and 2070 holds 20 000 after the transfer (30 000 released
    back to 2067)."""
    _restricted_capital_then_grants(world)
    fy = fiscal_year_for(dt.date(2023, 1, 1))
    [row] = [r for r in restricted_funds(fy) if r.fund == world.fund]
    assert (row.opening, row.additions, row.gifts, row.used, row.transfer) == (
        D("0.00"),
        D("50000.00"),
        D("0.00"),
        D("30000.00"),
        D("-30000.00"),
    )

    _close(world, 2023)

    code = world.fund.accounting_dimension
    restricted = -sum(
        p.amount.amount
        for p in Posting.objects.filter(account__number="2070", fund_object__code=code)
    )
    assert (row.closing, restricted) == (D("20000.00"), D("20000.00"))


def test_next_years_restricted_opening_equals_the_closed_years_restricted_closing(world) -> None:  # type: ignore[no-untyped-def]
    """2023: gift 100 000, grants 30 000 -> 70 000 moved to 2070. The fund's restricted
    account is then changed (the fund admin allows it): either the change is refused, or
    2024 opens with the 70 000 the fund's donors still restrict."""
    from django.db import DatabaseError

    from fund.models import Fund

    _book_year(world, 2023, "100000", "30000")
    _close(world, 2023)
    try:
        with transaction.atomic():
            Fund.objects.filter(pk=world.fund.pk).update(restricted_funds_account="2071")
    except (IntegrityError, DatabaseError):
        return  # the change is refused once the account holds the fund's restricted funds
    fy = fiscal_year_for(dt.date(2024, 1, 1))
    [row] = [r for r in restricted_funds(fy) if r.fund.pk == world.fund.pk]
    assert row.opening == D("70000.00")


def test_restricted_additions_in_the_year_have_their_own_column_on_the_page_and_in_the_command(
    world,
) -> None:  # type: ignore[no-untyped-def]
    """Restricted capital booked in 2023 (50 000) and grants 30 000: the page and
    ``manage.py year_end`` show the 50 000 as additions, apart from opening and gifts."""
    from io import StringIO

    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from tests.signin import sign_in

    _restricted_capital_then_grants(world)
    page = sign_in(Client(), world.treasurer).get(reverse("web:year_end"), {"year": "2023"})
    html = page.content.decode()
    assert "Additions in the year (SEK)" in html and "50,000.00" in html

    _close_periods(world, 2023)
    out = StringIO()
    call_command("year_end", "prepare", year=2023, user=world.treasurer.username, stdout=out)
    code = world.fund.code
    assert f"{code} 2070: 0.00 + 50000.00 + 0.00 - 30000.00 = 20000.00 (-30000.00)" in (
        out.getvalue()
    )
