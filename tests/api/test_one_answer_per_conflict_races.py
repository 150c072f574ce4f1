"""Real races through the API on PostgreSQL: threads with their own connections, released
together. Every loser answers 409 ``conflict`` (never 400, never 200) and the race has
exactly one effect, however the requests interleave."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from accounting.models import BatchStatus, PaymentBatch, PaymentOrder
from api.services import issue_token
from audit.models import AuditEvent
from reminders.models import Reminder, ReminderKind
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROUNDS = range(3)


def _client(user: Any) -> APIClient:
    _token, plain = issue_token(user, label="race")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def race(calls: list[Callable[[], Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Each call in its own thread (its own connection), released together."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            response = call()
            answers[index] = (response.status_code, response.json())
        except BaseException as exc:  # asserted below
            answers[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    assert not [a for a in answers if not isinstance(a, tuple)], answers
    return answers


def _one_winner(answers: list[tuple[int, dict[str, Any]]], ok: int = 200) -> None:
    statuses = sorted(status for status, _body in answers)
    assert statuses == [ok] + [409] * (len(answers) - 1), answers
    losers = [body for status, body in answers if status == 409]
    assert {body["code"] for body in losers} == {"conflict"}, losers


def _post(client: APIClient, url: str, body: Any = None) -> Callable[[], Any]:
    return lambda: client.post(url, body, format="json")


def _step(client: APIClient, reference: str, name: str, **data: Any) -> Callable[[], Any]:
    return _post(client, f"/api/v1/applications/{reference}/transitions/{name}/", data)


def _deciders(world: Any, count: int) -> list[Any]:
    extra = [UserFactory(roles=["decision_maker"]) for _ in range(count - 2)]
    world.fund.handlers.add(*extra)
    return [world.decider, world.decider2, *extra]


@pytest.mark.parametrize("attempt", ROUNDS)
def test_the_same_transition_racing_answers_one_200_and_409_conflicts(world, attempt):
    app = world.run(world.new_application("900"), "submit", world.ombud.user)
    officers = [world.officer, world.officer2]
    answers = race([_step(_client(o), app.reference, "request_attestation") for o in officers])
    _one_winner(answers)
    events = AuditEvent.objects.filter(
        object_ref=app.reference, action="application.request_attestation"
    )
    assert events.count() == 1


@pytest.mark.parametrize("attempt", ROUNDS)
def test_racing_decisions_answer_one_200_and_409_conflicts(world, attempt):
    app = world.to_decision(world.new_application("900"))
    deciders = _deciders(world, 4)
    calls = [_step(_client(d), app.reference, "approve") for d in deciders[:2]]
    calls += [
        _step(_client(d), app.reference, "reject", reason="need_not_shown") for d in deciders[2:]
    ]
    _one_winner(race(calls))
    assert app.decisions.count() == 1


@pytest.mark.parametrize("attempt", ROUNDS)
def test_racing_co_signatures_answer_one_200_and_409_conflicts(world, attempt):
    deciders = _deciders(world, 4)
    app = world.to_decision(world.new_application("12000"))  # above the two-signature line
    world.run(app, "approve", deciders[0])
    shown = app.decisions.get().pk  # every co-signer read the decision awaiting a signature
    answers = race(
        [_step(_client(d), app.reference, "approve", decision=shown) for d in deciders[1:]]
    )
    _one_winner(answers)
    decision = app.decisions.get()
    assert decision.signatures.count() == 2
    assert decision.status == "effective"


@pytest.fixture
def scheduled(world):
    app = world.to_approved(world.new_application("1200"))
    return world.run(app, "schedule_payout", world.treasurer)


@pytest.mark.parametrize("attempt", ROUNDS)
def test_racing_batch_approvals_answer_one_200_and_409_conflicts(world, scheduled, attempt):
    from accounting.payouts import batches

    batch = batches.create_batch(actor=world.treasurer2, applications=[scheduled])
    approvers = [UserFactory(roles=["treasurer"]) for _ in range(4)]
    url = f"/api/v1/payment-batches/{batch.message_id}/approve/"
    answers = race([_post(_client(t), url) for t in approvers])
    _one_winner(answers)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED
    assert AuditEvent.objects.filter(action="payout.batch_approved").count() == 1


@pytest.mark.parametrize("attempt", ROUNDS)
def test_racing_batch_creations_answer_one_201_and_409_conflicts(world, scheduled, attempt):
    treasurers = [world.treasurer, world.treasurer2] + [
        UserFactory(roles=["treasurer"]) for _ in range(2)
    ]
    body = {"applications": [scheduled.reference]}
    answers = race([_post(_client(t), "/api/v1/payment-batches/", body) for t in treasurers])
    _one_winner(answers, ok=201)
    assert PaymentBatch.objects.count() == 1
    assert PaymentOrder.objects.filter(batch__isnull=True).count() == 0


@pytest.mark.parametrize("attempt", ROUNDS)
def test_racing_reminder_dismissals_answer_one_200_and_409_conflicts(world, attempt):
    app = world.run(world.new_application("900"), "submit", world.ombud.user)
    reminder = Reminder.objects.create(
        recipient=world.officer,
        application=app,
        kind=ReminderKind.values[0],
        waiting_since=app.state_changed_at,
        days=30,
        created_at=app.state_changed_at,
    )
    url = f"/api/v1/reminders/{reminder.pk}/dismiss/"
    answers = race([_post(_client(world.officer), url) for _ in range(3)])
    _one_winner(answers)
