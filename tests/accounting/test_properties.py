"""Property: whatever happens, the books balance and no fund can promise money it lacks.

Random sequences of income, decisions, withdrawals, payouts, failed payouts and reversals run
against one fund, limited by its balance or by a budget. After every step: each voucher sums
to zero, the trial balance sums to zero, the fund's available amount is never negative and
equals the test's own model, and its balance equals the sum of its postings. Grants are
obligations when decided (issue #16): the grant cost (6710) is what was decided and not
released, the liability (2890) is exactly the open commitments, and the bank follows payouts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting import commitments, ledger
from accounting.models import Ceiling, PaymentOrder, Posting
from accounting.payouts import settlement
from core.exceptions import ValidationFailed
from fund.states import State
from tests.accounting.conftest import new_fund, voucher_sums

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("ledger")]

amounts = st.integers(min_value=1, max_value=400_000).map(lambda ore: Decimal(ore) / 100)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("income"), amounts),
        st.tuples(st.just("decide"), amounts),
        st.tuples(st.just("withdraw"), st.integers(0, 5)),
        st.tuples(st.just("pay"), st.integers(0, 5)),
        st.tuples(st.just("fail"), st.integers(0, 5)),
        st.tuples(st.just("reverse"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=8,
)
_codes = itertools.count()


@dataclass
class Model:
    budget: Decimal | None = None  # None: the fund is limited by its balance
    balance: Decimal = Decimal("0.00")  # the fund's capital: decided grants are a cost in it
    bank: Decimal = Decimal("0.00")
    committed: Decimal = Decimal("0.00")
    expensed: Decimal = Decimal("0.00")
    approved: list = field(default_factory=list)  # [app, amount]
    incomes: list = field(default_factory=list)  # [voucher, amount, reversed]

    @property
    def available(self) -> Decimal:
        if self.budget is None:
            return self.balance  # every commitment is already a cost in the balance
        return self.budget - self.committed - self.expensed


def _pick(items: list, index: int):  # type: ignore[no-untyped-def]
    return items[index % len(items)] if items else None


def _step(world, fund, model: Model, op: str, arg) -> None:  # type: ignore[no-untyped-def]
    available = model.available
    if op == "income":
        voucher = ledger.record_income(
            fund, arg, kind="donation", actor=world.treasurer, reference="P-1"
        )
        model.incomes.append([voucher, arg, False])
        model.balance += arg
        model.bank += arg
    elif op == "decide":
        app = world.to_decision(world.new_application(str(arg), fund=fund))
        if arg > available:
            with pytest.raises(ValidationFailed, match="available"):
                world.run(app, "approve", world.decider)
        else:
            model.approved.append([world.run(app, "approve", world.decider), arg])
            model.committed += arg
            model.balance -= arg
    elif op == "withdraw" and model.approved:
        entry = _pick(model.approved, arg)
        world.run(entry[0], "withdraw", world.officer, reason="applicant_request")
        model.approved.remove(entry)
        model.committed -= entry[1]
        model.balance += entry[1]
    elif op in ("pay", "fail") and model.approved:
        entry = _pick(model.approved, arg)
        app = world.run(entry[0], "schedule_payout", world.treasurer)
        batch = world.send_payouts(app)
        if op == "pay":
            assert settlement.confirm_batch_paid(batch, actor=world.treasurer) == 1
            model.approved.remove(entry)
            model.committed -= entry[1]
            model.expensed += entry[1]
            model.bank -= entry[1]
        else:
            settlement.reject_orders(list(batch.orders.all()), actor=world.treasurer, code="AC01")
            app.refresh_from_db()
            assert app.state == State.APPROVED
            entry[0] = app
    elif op == "reverse" and model.incomes:
        entry = _pick(model.incomes, arg)
        if entry[2]:
            with pytest.raises(ValidationFailed, match="already reversed"):
                ledger.reverse_voucher(entry[0], actor=world.treasurer)
        elif model.budget is None and entry[1] > available:
            with pytest.raises(ValidationFailed, match="release commitments first"):
                ledger.reverse_voucher(entry[0], actor=world.treasurer)
        else:
            ledger.reverse_voucher(entry[0], actor=world.treasurer)
            entry[2] = True
            model.balance -= entry[1]
            model.bank -= entry[1]


def _check(fund, model: Model) -> None:  # type: ignore[no-untyped-def]
    assert all(total == 0 for total in voucher_sums().values())
    assert sum(ledger.trial_balance().values(), Decimal(0)) == 0
    available = commitments.available(fund).amount
    assert available >= 0
    assert available == model.available
    postings = Posting.objects.filter(fund_object__fund=fund)

    def on(account: str) -> Decimal:
        return sum((p.amount.amount for p in postings.filter(account__number=account)), Decimal(0))

    assert ledger.fund_balance(fund).amount == model.balance
    assert on("1930") == model.bank
    paid = PaymentOrder.objects.filter(fund=fund, status="paid")
    assert model.expensed == sum((o.amount.amount for o in paid), Decimal(0))
    # The grant cost is what was decided and not released; the liability is what is still owed.
    assert on("6710") == model.committed + model.expensed
    assert on("2890") == -model.committed


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, budget=st.none() | amounts)
def test_books_balance_and_funds_never_overcommit(world, steps, budget):
    with transaction.atomic():
        fund = new_fund(world, f"prop{next(_codes)}")
        model = Model(budget=budget)
        if budget is not None:
            commitments.set_ceiling(fund, ceiling=Ceiling.BUDGET, actor=world.treasurer)
            year = ledger.fiscal_year_for(timezone.localdate())
            commitments.set_budget(fund, year=year, amount=budget, actor=world.treasurer)
        for op, arg in steps:
            _step(world, fund, model, op, arg)
            _check(fund, model)
        transaction.set_rollback(True)
