"""Issue #17: the workflow does not know the ledger; the accounting side subscribes to its steps
(a small registry of handlers run inside the same transaction, explicit and typed)."""

from __future__ import annotations

import pytest

from accounting import workflow_hooks
from accounting.models import PaymentOrder
from workflows import step_hooks
from workflows.checks import unbooked_money_events
from workflows.step_hooks import MONEY_EVENTS


def test_every_money_step_has_the_ledger_subscribed_at_start_up():
    assert unbooked_money_events() == []
    for event in MONEY_EVENTS:
        assert step_hooks.handlers_of(event), event.__name__


def test_a_money_step_without_a_handler_stops_the_start(monkeypatch):
    monkeypatch.setattr(step_hooks, "_handlers", {})
    problems = unbooked_money_events()
    assert len(problems) == len(MONEY_EVENTS)
    assert any("DecisionTookEffect" in problem for problem in problems)


def test_subscribing_twice_runs_each_handler_once():
    before = {event: len(step_hooks.handlers_of(event)) for event in MONEY_EVENTS}
    workflow_hooks.subscribe()
    assert {event: len(step_hooks.handlers_of(event)) for event in MONEY_EVENTS} == before


def test_a_handler_that_refuses_rolls_back_the_step_and_the_ledger(world, monkeypatch):
    """The handlers run inside the transition's transaction: a refusal after the payment orders
    were created leaves neither the orders nor the state change behind."""
    from core.exceptions import ValidationFailed

    app = world.to_approved(world.new_application("1500"))

    def refuse(event):
        raise ValidationFailed("refused after the orders")

    monkeypatch.setitem(
        step_hooks._handlers,
        step_hooks.PayoutScheduled,
        [*step_hooks.handlers_of(step_hooks.PayoutScheduled), refuse],
    )
    with pytest.raises(ValidationFailed):
        world.run(app, "schedule_payout", world.treasurer)
    app.refresh_from_db()
    assert app.state == "approved"
    assert not PaymentOrder.objects.filter(application=app).exists()
