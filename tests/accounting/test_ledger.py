"""The ledger: chart, gap-free numbering, balance, periods, reversals, income, balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounting import ledger
from accounting.ledger import Line
from accounting.models import Account, Dimension, DimensionObject, Posting, Voucher, VoucherSeries
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from tests.accounting.conftest import new_fund, voucher_sums

pytestmark = pytest.mark.django_db


def test_chart_is_seeded_from_bas_with_types(db):
    numbers = set(Account.objects.values_list("number", flat=True))
    required = {"1930", "2061", "2067", "2069", "2070", "2071", "2072", "2880", "2970"}
    required |= {"3981", "3985", "3987", "3993", "6710", "6993", "5010", "6110", "6570", "7010"}
    assert required <= numbers
    assert Account.objects.get(number="1930").type == "asset"
    assert Account.objects.get(number="2070").type == "equity"
    assert Account.objects.get(number="2880").type == "liability"
    assert Account.objects.get(number="3993").type == "income"
    assert Account.objects.get(number="6710").type == "expense"
    assert set(Dimension.objects.values_list("number", flat=True)) == {1, 6, 20}


def test_a_funds_object_comes_from_its_accounting_dimension(world):
    obj = ledger.fund_object(world.fund)
    assert obj.dimension.number == Dimension.FUND
    assert obj.code == world.fund.accounting_dimension
    assert ledger.fund_object(world.fund) == obj


def test_income_books_bank_against_donations_on_the_fund(world):
    fund = new_fund(world, "gava")
    voucher = ledger.record_income(
        fund, "2500.50", kind="donation", actor=world.treasurer, reference="swish-1"
    )
    postings = {p.account.number: p for p in voucher.postings.select_related("account")}
    assert postings["1930"].amount.amount == Decimal("2500.50")
    assert postings["3993"].amount.amount == Decimal("-2500.50")
    assert {p.fund_object.code for p in postings.values()} == {"GAVA"}
    assert voucher.series == VoucherSeries.INCOME
    assert "SWISH-1" in voucher.text
    assert ledger.fund_balance(fund).amount == Decimal("2500.50")


@pytest.mark.parametrize(
    ("kind", "account"),
    [("grant_eu", "3981"), ("grant_state", "3985"), ("grant_municipal", "3987")],
)
def test_grants_credit_their_bas_account(world, kind, account):
    voucher = ledger.record_income(
        world.fund, "100", kind=kind, actor=world.treasurer, reference="GR-1"
    )
    assert voucher.postings.filter(account__number=account, amount=Decimal("-100")).exists()


def test_restricted_capital_goes_to_the_funds_own_restricted_account(world):
    fund = new_fund(world, "barn", restricted_funds_account="2071")
    ledger.record_income(
        fund, "5000", kind="restricted_capital", actor=world.treasurer, reference="IB-2026"
    )
    assert Posting.objects.filter(account__number="2071", fund_object__fund=fund).exists()
    assert ledger.fund_balance(fund).amount == Decimal("5000.00")


def test_income_reference_must_be_a_code_not_a_name(world):
    with pytest.raises(ValidationFailed, match="never a donor"):
        ledger.record_income(
            world.fund, "10", kind="donation", actor=world.treasurer, reference="Anna Svensson"
        )


def test_only_a_treasurer_records_income(world):
    with pytest.raises(PermissionDenied):
        ledger.record_income(
            world.fund, "10", kind="donation", actor=world.officer, reference="X-1"
        )


@pytest.mark.evidence("ledger")
def test_amounts_are_quantized_and_must_be_sek(world):
    with pytest.raises(ValidationFailed, match="two decimals"):
        ledger.record_income(
            world.fund, "10.005", kind="donation", actor=world.treasurer, reference="X-1"
        )


@pytest.mark.evidence("ledger")
def test_unbalanced_voucher_is_refused_by_the_service(world):
    with pytest.raises(ValidationFailed, match="does not balance"):
        ledger.post_voucher(
            series="A",
            text="Fel",
            lines=[Line("1930", Decimal("100")), Line("3993", Decimal("-99.99"))],
            actor=world.treasurer,
        )


@pytest.mark.evidence("ledger")
def test_voucher_numbers_are_gap_free_per_series_and_year(world):
    before = list(Voucher.objects.filter(series="A").values_list("number", flat=True))
    for _ in range(3):
        ledger.post_voucher(
            series="A",
            text="Test",
            lines=[Line("1930", Decimal("1")), Line("3993", Decimal("-1"))],
            actor=world.treasurer,
        )
    with pytest.raises(ValidationFailed):
        ledger.post_voucher(
            series="A", text="Fel", lines=[Line("1930", Decimal("1"))], actor=world.treasurer
        )
    ledger.post_voucher(
        series="A",
        text="Test",
        lines=[Line("1930", Decimal("1")), Line("3993", Decimal("-1"))],
        actor=world.treasurer,
    )
    numbers = list(
        Voucher.objects.filter(series="A").order_by("number").values_list("number", flat=True)
    )
    assert numbers == list(range(1, len(before) + 5))
    next_year = ledger.post_voucher(
        series="A",
        text="Nytt år",
        lines=[Line("1930", Decimal("1")), Line("3993", Decimal("-1"))],
        actor=world.treasurer,
        date=dt.date(2031, 1, 2),
    )
    assert next_year.number == 1


def test_voucher_text_never_carries_a_personal_number(world):
    with pytest.raises(ValidationFailed, match="personal identity number"):
        ledger.post_voucher(
            series="A",
            text="Gåva från 19800101-1234",
            lines=[Line("1930", Decimal("1")), Line("3993", Decimal("-1"))],
            actor=world.treasurer,
        )


@pytest.mark.evidence("ledger")
def test_closed_period_takes_no_vouchers(world):
    ledger.fiscal_year_for(dt.date(2025, 1, 1))
    from accounting.models import Period

    for period in Period.objects.filter(start__year=2025, start__month__lte=3).order_by("start"):
        ledger.close_period(period, actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="2025-03 is closed"):
        ledger.record_income(
            world.fund,
            "10",
            kind="donation",
            actor=world.treasurer,
            reference="LATE-1",
            date=dt.date(2025, 3, 31),
        )
    ledger.record_income(
        world.fund,
        "10",
        kind="donation",
        actor=world.treasurer,
        reference="OK-1",
        date=dt.date(2025, 4, 1),
    )


def test_periods_close_in_order(world):
    ledger.fiscal_year_for(dt.date(2024, 1, 1))
    from accounting.models import Period

    with pytest.raises(ValidationFailed, match="earlier periods"):
        ledger.close_period(Period.objects.get(start=dt.date(2024, 2, 1)), actor=world.treasurer)


@pytest.mark.evidence("ledger")
def test_reversal_books_the_exact_opposite_and_only_once(world):
    fund = new_fund(world, "rev")
    original = ledger.record_income(
        fund, "300", kind="donation", actor=world.treasurer, reference="R-1"
    )
    reversal = ledger.reverse_voucher(original, actor=world.treasurer)
    assert reversal.reverses == original
    assert sorted(p.amount.amount for p in reversal.postings.all()) == [
        Decimal("-300.00"),
        Decimal("300.00"),
    ]
    assert ledger.fund_balance(fund).amount == 0
    with pytest.raises(ValidationFailed, match="already reversed"):
        ledger.reverse_voucher(original, actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="not reversed"):
        ledger.reverse_voucher(reversal, actor=world.treasurer)


@pytest.mark.evidence("ledger")
def test_trial_balance_sums_to_zero(world):
    ledger.record_income(
        world.fund, "123.45", kind="grant_eu", actor=world.treasurer, reference="E-1"
    )
    assert sum(ledger.trial_balance().values()) == 0
    assert all(total == 0 for total in voucher_sums().values())


@pytest.mark.evidence("ledger")
def test_postings_cannot_be_updated_or_deleted(world):
    voucher = ledger.record_income(
        world.fund, "10", kind="donation", actor=world.treasurer, reference="IMM-1"
    )
    posting = voucher.postings.first()
    for statement, key in (
        ("UPDATE accounting_posting SET amount = 5 WHERE id = %s", posting.pk),
        ("DELETE FROM accounting_posting WHERE id = %s", posting.pk),
        ("UPDATE accounting_voucher SET text = 'x' WHERE id = %s", voucher.pk),
        ("DELETE FROM accounting_voucher WHERE id = %s", voucher.pk),
        ("DELETE FROM accounting_voucherseal WHERE voucher_id = %s", voucher.pk),
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [key])
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=Decimal("5"))


@pytest.mark.evidence("ledger")
def test_no_posting_can_be_added_to_a_sealed_voucher(world):
    voucher = ledger.record_income(
        world.fund, "10", kind="donation", actor=world.treasurer, reference="SEAL-1"
    )
    with pytest.raises(IntegrityError, match="sealed"), transaction.atomic():
        Posting.objects.create(
            voucher=voucher,
            seal_id=voucher.pk,
            account=Account.objects.get(number="1930"),
            amount=Decimal("1"),
        )


def test_ledger_events_are_audited_without_names(world):
    ledger.record_income(world.fund, "10", kind="donation", actor=world.treasurer, reference="AU-1")
    event = AuditEvent.objects.filter(action="ledger.voucher_posted").last()
    assert event.payload["postings"][0]["account"] == "1930"
    assert event.payload["reference"] == "AU-1"
    assert DimensionObject.objects.filter(fund=world.fund).exists()


@pytest.mark.evidence("ledger")
def test_the_database_refuses_vouchers_in_a_closed_period_and_reopening(world):
    from django.utils import timezone

    from accounting.models import Period

    year = ledger.fiscal_year_for(dt.date(2023, 1, 1))
    period = Period.objects.get(start=dt.date(2023, 1, 1))
    ledger.close_period(period, actor=world.treasurer)
    with pytest.raises(IntegrityError, match="closed"), transaction.atomic():
        Voucher.objects.create(
            fiscal_year=year,
            series="A",
            number=1,
            date=dt.date(2023, 1, 15),
            text="Bakdaterad",
            created_at=timezone.now(),
        )
    with pytest.raises(IntegrityError, match="reopened"), transaction.atomic():
        Period.objects.filter(pk=period.pk).update(closed_at=None)


@pytest.mark.parametrize("reference", ["ANNA", "Anna Svensson", "", "A" * 41, "ÅSA-1"])
def test_income_references_that_could_be_names_are_refused(world, reference):
    with pytest.raises(ValidationFailed, match="never a donor"):
        ledger.record_income(
            world.fund, "10", kind="donation", actor=world.treasurer, reference=reference
        )
