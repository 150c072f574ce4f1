"""Issue #16, the books: grants are an obligation when decided.

A decision that takes effect books the cost (6710) and a liability "beviljade, ej utbetalda
bidrag" (2890); a payout settles the liability against the bank (1930); what is released
(withdrawal, payout given up) is reversed, liability and cost. Figures are computed by hand
for one fund holding 10 000.00 SEK.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting import commitments, ledger
from accounting.bank_exceptions import resolve_bank_exception
from accounting.bank_status import import_bank_file, import_pain002
from accounting.models import (
    BankException,
    Commitment,
    CommitmentStatus,
    OrderStatus,
    PaymentOrder,
    Posting,
    VoucherSeries,
)
from accounting.payouts import settlement
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role
from fund.states import State
from tests.accounting.bank_files import camt054, pain002
from tests.accounting.conftest import new_fund

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")


def _on(fund, account: str) -> Decimal:  # type: ignore[no-untyped-def]
    postings = Posting.objects.filter(fund_object__fund=fund, account__number=account)
    return sum((p.amount.amount for p in postings), ZERO)


@pytest.fixture
def fund(world):  # type: ignore[no-untyped-def]
    fund = new_fund(world, "acc")
    ledger.record_income(fund, "10000", kind="donation", actor=world.treasurer, reference="G-1")
    return fund


def _decided(world, fund, *amounts: str):  # type: ignore[no-untyped-def]
    return world.to_approved(world.new_application(*amounts, fund=fund))


def _orders(app):  # type: ignore[no-untyped-def]
    return sorted(PaymentOrder.objects.filter(application=app), key=lambda o: -o.amount.amount)


def test_a_decision_books_the_grant_cost_and_a_liability_when_it_takes_effect(world, fund):
    app = _decided(world, fund, "1500", "800")

    assert _on(fund, "6710") == Decimal("2300.00")  # the cost, when decided
    assert _on(fund, "2890") == Decimal("-2300.00")  # beviljade, ej utbetalda bidrag
    assert _on(fund, "1930") == Decimal("10000.00")  # nothing has left the bank
    commitment = Commitment.objects.filter(application=app).first()
    assert commitment is not None and commitment.accrued_by is not None
    voucher = commitment.accrued_by
    assert voucher.series == VoucherSeries.GRANTS
    assert app.reference in voucher.text
    # The fund's balance follows the decision, and what it may still grant is that balance.
    assert ledger.fund_balance(fund).amount == Decimal("7700.00")
    assert commitments.available(fund).amount == Decimal("7700.00")


def test_a_partial_payout_settles_the_liability_and_a_release_reverses_the_rest(world, fund):
    app = world.run(_decided(world, fund, "1500", "800"), "schedule_payout", world.treasurer)
    batch = world.send_payouts(app)
    big, small = _orders(app)
    settlement.reject_orders([small], actor=world.treasurer, code="AC01")
    settlement.confirm_paid([big], actor=world.treasurer)
    app.refresh_from_db()
    assert app.state == State.APPROVED  # one item paid, one failed
    assert batch.pk

    # The payout settled 1 500 of the liability against the bank; the cost stays 2 300.
    assert _on(fund, "2890") == Decimal("-800.00")
    assert _on(fund, "6710") == Decimal("2300.00")
    assert _on(fund, "1930") == Decimal("8500.00")
    paid = PaymentOrder.objects.get(pk=big.pk).voucher
    assert {p.account.number: p.amount.amount for p in paid.postings.select_related("account")} == {
        "2890": Decimal("1500.00"),
        "1930": Decimal("-1500.00"),
    }

    # The payout of the rest is given up: its liability and its cost are reversed.
    released = commitments.release_commitments(
        app, actor=world.decider, reason="payout_given_up", role=Role.DECISION_MAKER
    )
    assert released == 1
    assert _on(fund, "2890") == ZERO
    assert _on(fund, "6710") == Decimal("1500.00")
    assert ledger.fund_balance(fund).amount == Decimal("8500.00")
    assert commitments.available(fund).amount == Decimal("8500.00")
    commitment = Commitment.objects.get(application=app, status=CommitmentStatus.RELEASED)
    reversal = commitment.released_by
    assert reversal is not None and reversal.series == VoucherSeries.GRANTS
    assert {
        p.account.number: p.amount.amount for p in reversal.postings.select_related("account")
    } == {"2890": Decimal("800.00"), "6710": Decimal("-800.00")}


def test_withdrawal_before_payout_reverses_the_liability_and_the_cost(world, fund):
    app = _decided(world, fund, "1500", "800")
    world.run(app, "withdraw", world.officer, reason="applicant_request")

    assert _on(fund, "2890") == ZERO
    assert _on(fund, "6710") == ZERO
    assert ledger.fund_balance(fund).amount == Decimal("10000.00")
    assert commitments.available(fund).amount == Decimal("10000.00")


def test_a_voucher_of_a_decided_grant_is_corrected_through_the_case_not_reversed(world, fund):
    app = _decided(world, fund, "500")
    voucher = Commitment.objects.get(application=app).accrued_by
    with pytest.raises(ValidationFailed, match="through the case"):
        ledger.reverse_voucher(voucher, actor=world.treasurer)


def test_money_the_bank_paid_after_a_failure_settles_the_decided_grant_not_a_second_cost(
    world, fund
):
    app = world.run(_decided(world, fund, "700", "300"), "schedule_payout", world.treasurer)
    batch = world.send_payouts(app)
    first, second = _orders(app)
    import_pain002(pain002(batch, [(first, ("RJCT", "AC04"))]), actor=world.treasurer)
    import_bank_file(
        camt054([(first, "2026-11-24", ""), (second, "2026-11-24", "")]), actor=world.treasurer
    )
    resolve_bank_exception(
        BankException.objects.get(), actor=world.treasurer2, resolution="accepted_as_grant"
    )

    assert _on(fund, "6710") == Decimal("1000.00")  # decided once, a cost once
    assert _on(fund, "2890") == ZERO  # nothing is owed any more
    assert _on(fund, "1930") == Decimal("9000.00")
    assert set(Commitment.objects.filter(application=app).values_list("status", flat=True)) == {
        CommitmentStatus.EXPENSED
    }


def test_accepting_money_as_the_grant_waits_while_another_order_for_the_item_is_at_the_bank(
    world, fund
):
    app = world.run(_decided(world, fund, "700"), "schedule_payout", world.treasurer)
    batch = world.send_payouts(app)
    (first,) = _orders(app)
    import_pain002(pain002(batch, [(first, ("RJCT", "AC04"))]), actor=world.treasurer)
    app.refresh_from_db()
    app = world.run(app, "schedule_payout", world.treasurer)  # the item again, a new order
    world.send_payouts(app)
    import_bank_file(
        camt054([(first, "2026-11-24", "")]), actor=world.treasurer
    )  # the first paid after all

    exception = BankException.objects.get()
    with pytest.raises(ValidationFailed, match="pays the same item"):
        resolve_bank_exception(exception, actor=world.treasurer2, resolution="accepted_as_grant")
    assert PaymentOrder.objects.filter(application=app, status=OrderStatus.SCHEDULED).count() == 1
    assert _on(fund, "2890") == Decimal("-700.00")


def test_grants_decided_before_accrual_are_booked_once_on_upgrade(world, fund):
    from django.core.management import call_command

    app = _decided(world, fund, "1500", "800")
    # As an installation upgraded from before issue #16 holds it: a commitment, no voucher.
    voucher = Commitment.objects.filter(application=app).first().accrued_by
    Commitment.objects.filter(application=app).update(accrued_by=None)
    ledger.post_voucher(
        series=VoucherSeries.MANUAL,
        text="Test: as before accrual",
        lines=[
            ledger.Line("2890", Decimal("2300"), fund=fund),
            ledger.Line("6710", Decimal("-2300"), fund=fund),
        ],
        actor=world.treasurer,
    )
    assert voucher is not None
    assert commitments.available(fund).amount == Decimal("7700.00")  # the commitment holds it

    call_command("accrue_open_commitments", user=world.treasurer.username)
    call_command("accrue_open_commitments", user=world.treasurer.username)  # books nothing new

    assert _on(fund, "6710") == Decimal("2300.00")
    assert _on(fund, "2890") == Decimal("-2300.00")
    assert commitments.available(fund).amount == Decimal("7700.00")
    assert not Commitment.objects.filter(application=app, accrued_by__isnull=True).exists()
    with pytest.raises(PermissionDenied):
        commitments.accrue_open_commitments(actor=world.officer)


def test_grants_payable_is_remapped_only_once_the_decided_grants_on_it_are_paid(
    world,  # type: ignore[no-untyped-def]
    fund,
) -> None:
    """Decided 1 500 under the BAS default (2890 credit 1 500). Mapping ``grants_payable``
    to the foundation's own 2891 is refused while 2890 owes the grant; after the payout
    (debit 2890 1 500) 2890 holds nothing, the remap is applied and the fund owes nothing on
    2890 nor 2891."""
    from django.test import override_settings

    from accounting.chart import apply_mapping, recorded_mapping
    from accounting.models import Account, AccountType

    app = _decided(world, fund, "1500")
    assert _on(fund, "2890") == Decimal("-1500.00")
    Account.objects.create(
        number="2891", name="Beviljade bidrag (egen)", type=AccountType.LIABILITY
    )
    with (
        override_settings(LEDGER_ACCOUNTS={"grants_payable": "2891"}),
        pytest.raises(ValidationFailed, match=r"account 2890 still holds -1500\.00"),
    ):
        apply_mapping(actor=world.treasurer)

    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    world.run(app, "confirm_paid", world.treasurer)
    with override_settings(LEDGER_ACCOUNTS={"grants_payable": "2891"}):
        apply_mapping(actor=world.treasurer)

    assert recorded_mapping()["grants_payable"] == "2891"
    assert not Commitment.objects.filter(application=app, status=CommitmentStatus.OPEN).exists()
    assert (_on(fund, "2890"), _on(fund, "2891")) == (ZERO, ZERO)
