"""Two transitions racing on the same application: exactly one wins, the other is told."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import translation

from core.exceptions import ConflictError
from fund.models import Application
from fund.states import State
from workflows import services, step_inputs


def _race(app_pk, attempts):
    """Run each (name, actor, data) in its own thread; all load before any transitions."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[object] = [None] * len(attempts)

    def worker(index, name, actor, data):
        try:
            app = Application.objects.get(pk=app_pk)
            barrier.wait(timeout=10)
            with translation.override("en"):  # threads start in the default language
                services.transition(app, actor=actor, step=step_inputs.parse(name, data))
            outcomes[index] = "ok"
        except Exception as exc:  # recorded and asserted below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, *attempt)) for i, attempt in enumerate(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_decisions_end_with_one_success_and_one_conflict(world, attempt):
    app = world.to_decision(world.new_application("900"))
    outcomes = _race(
        app.pk,
        [
            ("approve", world.decider, {}),
            ("reject", world.decider2, {"reason": "need_not_shown"}),
        ],
    )
    assert outcomes.count("ok") == 1, outcomes
    [failure] = [o for o in outcomes if o != "ok"]
    assert isinstance(failure, ConflictError), failure
    assert "changed while you were working on it" in str(failure)
    app.refresh_from_db()
    assert app.state in (State.APPROVED, State.REJECTED)
    assert app.decisions.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_transition_twice_at_once_runs_once(world):
    app = world.run(world.new_application("900"), "submit", world.ombud.user)
    outcomes = _race(
        app.pk,
        [("request_attestation", world.officer, {}), ("request_attestation", world.officer2, {})],
    )
    assert outcomes.count("ok") == 1, outcomes
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1
    from audit.models import AuditEvent

    assert (
        AuditEvent.objects.filter(
            object_ref=app.reference, action="application.request_attestation"
        ).count()
        == 1
    )
