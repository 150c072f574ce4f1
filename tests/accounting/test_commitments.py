"""Budgets and commitments: decisions reserve money, refusals are clear, releases are exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting import commitments, ledger
from accounting.models import Ceiling, Commitment, CommitmentStatus
from core.exceptions import ValidationFailed
from fund.states import State
from tests.accounting.conftest import new_fund

pytestmark = pytest.mark.django_db


def _funded(world, code: str, amount: str):  # type: ignore[no-untyped-def]
    fund = new_fund(world, code)
    ledger.record_income(fund, amount, kind="donation", actor=world.treasurer, reference="IN-1")
    return fund


def test_an_effective_decision_commits_each_approved_item(world):
    fund = _funded(world, "c1", "5000")
    app = world.to_approved(world.new_application("1500", "800", fund=fund))
    rows = Commitment.objects.filter(application=app).order_by("need_item__position")
    assert [r.amount.amount for r in rows] == [Decimal("1500.00"), Decimal("800.00")]
    assert {r.status for r in rows} == {CommitmentStatus.OPEN}
    assert commitments.available(fund).amount == Decimal("2700.00")


@pytest.mark.evidence("ledger")
def test_a_decision_beyond_the_available_amount_is_refused_with_the_figures(world):
    fund = _funded(world, "c2", "1000")
    app = world.to_decision(world.new_application("1200", fund=fund))
    with pytest.raises(ValidationFailed, match=r"1000\.00 kr available.*needs 1200\.00 kr"):
        world.run(app, "approve", world.decider)
    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert not Commitment.objects.filter(application=app).exists()


def test_partial_approval_commits_only_what_is_granted(world):
    fund = _funded(world, "c3", "1000")
    app = world.to_decision(world.new_application("600", "900", fund=fund))
    first, second = app.items.order_by("position")
    world.run(
        app,
        "approve_partly",
        world.decider,
        items=[{"item": first.pk, "amount": "600"}, {"item": second.pk, "amount": "0"}],
    )
    assert [c.amount.amount for c in Commitment.objects.filter(application=app)] == [
        Decimal("600.00")
    ]


def test_rejection_commits_nothing_and_withdrawal_releases(world):
    fund = _funded(world, "c4", "3000")
    rejected = world.to_decision(world.new_application("500", fund=fund))
    world.run(rejected, "reject", world.decider)
    assert not Commitment.objects.filter(application=rejected).exists()

    app = world.to_approved(world.new_application("2000", fund=fund))
    assert commitments.available(fund).amount == Decimal("1000.00")
    world.run(app, "withdraw", world.ombud.user, reason="need_met_elsewhere")
    assert Commitment.objects.get(application=app).status == CommitmentStatus.RELEASED
    assert commitments.available(fund).amount == Decimal("3000.00")


def test_reconsidered_rejection_commits_when_approved_anew(world):
    fund = _funded(world, "c5", "3000")
    app = world.to_decision(world.new_application("700", fund=fund))
    app = world.run(app, "reject", world.decider)
    app = world.run(app, "reconsider", world.decider2)
    assert not Commitment.objects.filter(application=app, status="open").exists()
    world.run(app, "approve", world.decider2)
    assert Commitment.objects.get(application=app, status="open").amount.amount == 700


def test_payout_turns_the_commitment_into_an_expense(world):
    fund = _funded(world, "c6", "3000")
    app = world.to_paid(world.new_application("1000", fund=fund))
    assert Commitment.objects.get(application=app).status == CommitmentStatus.EXPENSED
    assert ledger.fund_balance(fund).amount == Decimal("2000.00")
    assert commitments.available(fund).amount == Decimal("2000.00")


@pytest.mark.evidence("ledger")
def test_budget_ceiling_counts_commitments_and_payouts_of_the_year(world):
    fund = new_fund(world, "c7")
    commitments.set_ceiling(fund, ceiling=Ceiling.BUDGET, actor=world.treasurer)
    year = ledger.fiscal_year_for(__import__("django.utils.timezone").utils.timezone.localdate())
    commitments.set_budget(fund, year=year, amount="2500", actor=world.treasurer)
    ledger.record_income(fund, "100000", kind="donation", actor=world.treasurer, reference="B-1")
    world.to_paid(world.new_application("1000", fund=fund))
    world.to_approved(world.new_application("1000", fund=fund))
    assert commitments.available(fund).amount == Decimal("500.00")
    app = world.to_decision(world.new_application("600", fund=fund))
    with pytest.raises(ValidationFailed, match=r"500\.00 kr available"):
        world.run(app, "approve", world.decider)
    with pytest.raises(ValidationFailed, match="less than it has committed"):
        commitments.set_budget(fund, year=year, amount="1999", actor=world.treasurer)


@pytest.mark.evidence("ledger")
def test_reversing_income_that_is_committed_is_refused(world):
    fund = new_fund(world, "c8")
    income = ledger.record_income(
        fund, "1000", kind="donation", actor=world.treasurer, reference="R-1"
    )
    world.to_approved(world.new_application("900", fund=fund))
    with pytest.raises(ValidationFailed, match="release commitments first"):
        ledger.reverse_voucher(income, actor=world.treasurer)
    assert commitments.available(fund).amount == Decimal("100.00")


def test_two_signature_decision_commits_only_when_effective(world):
    app = world.to_decision(world.new_application("15000"))
    world.run(app, "approve", world.decider)
    assert not Commitment.objects.filter(application=app).exists()
    world.run(app, "approve", world.decider2)
    assert Commitment.objects.filter(application=app, status="open").count() == 1


def test_reversing_income_of_a_budget_limited_fund_leaves_its_budget_alone(world):
    from django.utils import timezone

    fund = new_fund(world, "c9")
    commitments.set_ceiling(fund, ceiling=Ceiling.BUDGET, actor=world.treasurer)
    commitments.set_budget(
        fund,
        year=ledger.fiscal_year_for(timezone.localdate()),
        amount="1000",
        actor=world.treasurer,
    )
    income = ledger.record_income(
        fund, "500", kind="donation", actor=world.treasurer, reference="B-1"
    )
    world.to_approved(world.new_application("900", fund=fund))
    ledger.reverse_voucher(income, actor=world.treasurer)
    assert commitments.available(fund).amount == Decimal("100.00")
    # The decided grant is already a cost in the fund's capital (accrued when decided).
    assert ledger.fund_balance(fund).amount == Decimal("-900.00")
