"""One answer for one conflict: a request that lost a race answers 409 ``conflict`` whether it
arrived before the winner committed or after; a request wrong from the start stays a 400.

These are the late losers, one after the other (SQLite and PostgreSQL); the true races, in
threads with their own connections, are in ``test_one_answer_per_conflict_races.py``.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounting.models import PaymentBatch, PaymentOrder
from api.services import issue_token
from audit.models import AuditEvent
from reminders.models import Reminder, ReminderKind

pytestmark = pytest.mark.django_db


def _step(client, app, name, **data):
    return client.post(
        f"/api/v1/applications/{app.reference}/transitions/{name}/", data, format="json"
    )


def test_the_same_transition_twice_answers_409_conflict(world, as_role):
    app = world.run(world.new_application("900"), "submit", world.ombud.user)
    first = _step(as_role("officer"), app, "request_attestation")
    again = _step(as_role("officer2"), app, "request_attestation")

    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert AuditEvent.objects.filter(action="application.request_attestation").count() == 1


def test_a_decision_after_another_decision_answers_409_conflict(world, as_role):
    app = world.to_decision(world.new_application("900"))
    approved = _step(as_role("decider"), app, "approve")
    rejected = _step(as_role("decider2"), app, "reject", reason="need_not_shown")

    assert approved.status_code == 200
    assert (rejected.status_code, rejected.json()["code"]) == (409, "conflict")
    assert app.decisions.count() == 1


def test_a_second_co_signature_after_the_decision_took_effect_answers_409(world, as_role):
    from tests.factories import UserFactory

    decider3 = UserFactory(roles=["decision_maker"])
    world.fund.handlers.add(decider3)
    app = world.to_decision(world.new_application("12000"))  # above the two-signature line
    assert _step(as_role("decider"), app, "approve").status_code == 200
    shown = app.decisions.get().pk  # both co-signers read the decision awaiting a signature
    signed = _step(as_role("decider2"), app, "approve", decision=shown)
    late = _step(world_client(as_role, decider3), app, "approve", decision=shown)

    assert signed.status_code == 200
    assert signed.json()["state"] == "approved"
    assert (late.status_code, late.json()["code"]) == (409, "conflict")
    assert app.decisions.get().signatures.count() == 2


def world_client(as_role, user):
    _token, plain = issue_token(user, label="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_a_step_that_was_never_possible_stays_a_400(world, as_role):
    app = world.new_application("900")  # a draft: it was never ready for a decision
    response = _step(as_role("decider"), app, "approve")

    assert (response.status_code, response.json()["code"]) == (400, "transition_not_available")


def test_a_step_not_possible_in_the_state_the_case_came_from_stays_a_400(world, as_role):
    app = world.to_statutory_check(world.new_application("900"))
    # From "attested" the case went to the statutory check; "submit" was not possible there.
    response = _step(as_role("ombud"), app, "submit")

    assert (response.status_code, response.json()["code"]) == (400, "transition_not_available")


@pytest.fixture
def scheduled(world):
    app = world.to_approved(world.new_application("1200"))
    return world.run(app, "schedule_payout", world.treasurer)


def test_a_batch_approved_twice_answers_409_conflict(world, as_role, scheduled):
    from tests.factories import UserFactory

    created = as_role("treasurer2").post(
        "/api/v1/payment-batches/", {"applications": [scheduled.reference]}, format="json"
    )
    message_id = created.json()["message_id"]
    third = world_client(as_role, UserFactory(roles=["treasurer"]))
    fourth = world_client(as_role, UserFactory(roles=["treasurer"]))

    first = third.post(f"/api/v1/payment-batches/{message_id}/approve/")
    again = fourth.post(f"/api/v1/payment-batches/{message_id}/approve/")

    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert AuditEvent.objects.filter(action="payout.batch_approved").count() == 1


def test_a_second_batch_over_the_same_orders_answers_409_conflict(world, as_role, scheduled):
    body = {"applications": [scheduled.reference]}
    first = as_role("treasurer").post("/api/v1/payment-batches/", body, format="json")
    again = as_role("treasurer2").post("/api/v1/payment-batches/", body, format="json")

    assert first.status_code == 201
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert PaymentBatch.objects.count() == 1
    assert PaymentOrder.objects.get().batch.message_id == first.json()["message_id"]


def test_a_batch_of_a_case_without_scheduled_orders_stays_a_400(world, as_role):
    app = world.to_approved(world.new_application("1200"))  # approved, never scheduled
    response = as_role("treasurer").post(
        "/api/v1/payment-batches/", {"applications": [app.reference]}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")


def test_a_reminder_dismissed_twice_answers_409_conflict(world, as_role):
    app = world.run(world.new_application("900"), "submit", world.ombud.user)
    reminder = Reminder.objects.create(
        recipient=world.officer,
        application=app,
        kind=ReminderKind.values[0],
        waiting_since=app.state_changed_at,
        days=30,
        created_at=app.state_changed_at,
    )
    client = as_role("officer")
    first = client.post(f"/api/v1/reminders/{reminder.pk}/dismiss/")
    reminder.refresh_from_db()
    dismissed_at = reminder.dismissed_at
    again = client.post(f"/api/v1/reminders/{reminder.pk}/dismiss/")

    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    reminder.refresh_from_db()
    assert reminder.dismissed_at == dismissed_at is not None
