"""Every path through the application state machine."""

from decimal import Decimal

import pytest

from accounting.payouts import settlement
from core.exceptions import ConflictError, ValidationFailed
from fund.states import State
from workflows import services
from workflows.models import Decision, DecisionStatus, Obligation


def test_referral_closes_the_case_with_authority_and_legal_basis(world):
    app = world.to_statutory_check(world.new_application("900"))
    world.assess_all(
        app,
        outcome=Obligation.OBLIGED,
        authority="social_services",
        legal_basis="sol_4_1",
        evidence_reference="Dnr 2026-123",
    )
    app = world.run(app, "refer", world.officer)
    assert app.state == State.REFERRED
    item = app.items.get()
    assert item.statutory_assessment.legal_basis == "sol_4_1"
    assert services.available_transitions(app, actor=world.officer) == []


def test_refer_is_refused_when_some_item_is_not_obliged(world):
    app = world.to_statutory_check(world.new_application("900", "500"))
    first, second = app.items.order_by("position")
    services.record_statutory_assessment(
        first,
        actor=world.officer,
        outcome="obliged",
        authority="social_services",
        legal_basis="sol_4_1",
    )
    services.record_statutory_assessment(second, actor=world.officer, outcome="not_obliged")
    with pytest.raises(ValidationFailed, match="not fully society's responsibility"):
        world.run(app, "refer", world.officer)
    app = world.run(app, "clear", world.officer)
    app = world.run(app, "approve_partly", world.decider)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.outcome == "rejected" and first.approved_amount.amount == 0
    assert second.outcome == "approved" and second.approved_amount.amount == Decimal("500.00")


def test_partly_obliged_item_can_be_granted_only_the_remainder(world):
    app = world.to_statutory_check(world.new_application("3000"))
    item = app.items.get()
    services.record_statutory_assessment(
        item,
        actor=world.officer,
        outcome="partly",
        authority="social_services",
        legal_basis="sol_4_1",
        grantable_amount="1000",
    )
    app = world.run(app, "clear", world.officer)
    with pytest.raises(ValidationFailed, match=r"at most SEK 1,000\.00"):
        world.run(app, "approve_partly", world.decider, items=[{"item": item.pk, "amount": "1500"}])
    app = world.run(app, "approve_partly", world.decider)
    item.refresh_from_db()
    assert item.approved_amount.amount == Decimal("1000.00")
    assert item.outcome == "reduced"


def test_rejection_and_reconsideration_by_another_decision_maker(world):
    app = world.to_decision(world.new_application("1200"))
    app = world.run(app, "reject", world.decider, reason="need_not_shown")
    assert app.state == State.REJECTED
    app = world.run(app, "reconsider", world.decider2)
    assert app.state == State.READY_FOR_DECISION
    app = world.run(app, "approve", world.decider2)
    assert app.state == State.APPROVED
    statuses = dict(Decision.objects.filter(application=app).values_list("outcome", "status"))
    assert statuses == {"reject": DecisionStatus.SUPERSEDED, "approve": DecisionStatus.EFFECTIVE}
    new = Decision.objects.get(application=app, outcome="approve")
    assert new.reconsiders.outcome == "reject"


def test_declined_attestation_rejects_and_cannot_be_reconsidered(world):
    app = world.run(world.new_application("700"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    app = world.run(app, "decline_attestation", world.ombud.user, reason="need_not_confirmed")
    assert app.state == State.REJECTED
    with pytest.raises(ValidationFailed, match="new application is needed"):
        world.run(app, "reconsider", world.decider)


@pytest.mark.parametrize(
    "reach",
    ["submitted", "awaiting_ombud", "ombud_verified", "statutory_check", "ready_for_decision"],
)
def test_completion_request_returns_to_the_state_it_came_from(world, reach):
    app = world.new_application("400")
    app = world.run(app, "submit", world.ombud.user)
    steps = [
        ("request_attestation", world.officer, {}),
        ("attest", world.ombud.user, {"method": "portal", "need_confirmed": True}),
        ("start_statutory_check", world.officer, {}),
    ]
    for name, actor, data in steps:
        if app.state == reach:
            break
        app = world.run(app, name, actor, **data)
    if reach == "ready_for_decision":
        world.assess_all(app)
        app = world.run(app, "clear", world.officer)
    assert app.state == reach
    app = world.run(app, "request_completion", world.officer, message="Kvitto saknas")
    assert app.state == State.NEEDS_COMPLETION
    request = app.completion_requests.get()
    assert request.resolved_at is None
    assert request.message == "Kvitto saknas"
    assert "Kvitto" not in request.encrypted_message
    app = world.run(app, "resubmit", world.ombud.user)
    assert app.state == reach
    request.refresh_from_db()
    assert request.resolved_by == world.ombud.user


def test_completion_request_needs_a_message(world):
    app = world.run(world.new_application("400"), "submit", world.ombud.user)
    with pytest.raises(ValidationFailed, match="needs to add"):
        world.run(app, "request_completion", world.officer, message="  ")
    app.refresh_from_db()
    assert app.state == State.SUBMITTED


@pytest.mark.parametrize("stop_at", ["draft", "submitted", "needs_completion", "approved"])
def test_withdrawal_from_open_states(world, stop_at):
    app = world.new_application("300")
    if stop_at == "submitted":
        app = world.run(app, "submit", world.ombud.user)
    elif stop_at == "needs_completion":
        app = world.run(app, "submit", world.ombud.user)
        app = world.run(app, "request_completion", world.officer, message="Mer underlag")
    elif stop_at == "approved":
        app = world.to_approved(app)
    app = world.run(app, "withdraw", world.ombud.user, reason="need_met_elsewhere")
    assert app.state == State.WITHDRAWN


def test_withdrawal_is_not_possible_once_payout_is_scheduled(world):
    app = world.run(
        world.to_approved(world.new_application("300")), "schedule_payout", world.treasurer
    )
    # Withdrawing was possible until the payout was scheduled: a conflict (409), not a 400.
    with pytest.raises(ConflictError, match="no longer possible"):
        world.run(app, "withdraw", world.officer, reason="other")


def test_withdrawal_needs_a_reason_code(world):
    app = world.new_application("300")
    with pytest.raises(ValidationFailed, match="why"):
        world.run(app, "withdraw", world.ombud.user, reason="because I say so")


def test_payout_failure_returns_to_approved_and_can_be_retried(world):
    app = world.run(
        world.to_approved(world.new_application("650")), "schedule_payout", world.treasurer
    )
    world.send_payouts(app)
    settlement.reject_orders(list(app.payment_orders.all()), actor=world.treasurer, code="AC01")
    app.refresh_from_db()
    assert app.state == State.APPROVED
    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    app = world.run(app, "confirm_paid", world.treasurer2)
    assert app.state == State.PAID


def test_follow_up_is_required_before_closing_when_the_fund_says_so(world):
    world.fund.follow_up_required = True
    world.fund.save()
    app = world.to_paid(world.new_application("650"))
    with pytest.raises(ValidationFailed, match="follow-up"):
        world.run(app, "close", world.officer)
    services.record_follow_up(app, actor=world.officer, outcome="used_as_intended")
    app = world.run(app, "close", world.officer)
    assert app.state == State.CLOSED
