"""Review of issue #15: automatic checkpoints made by concurrent writers (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from audit.models import AuditCheckpoint, AuditEvent
from audit.models import AuditVerificationRun as Run
from audit.services import record_event
from audit.verification import verify_chain

WRITERS = 6
EVENTS_EACH = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_automatic_checkpoints_without_failing_or_deadlocking(settings):
    settings.AUDIT_AUTO_CHECKPOINT = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 3
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(EVENTS_EACH):
                with transaction.atomic():
                    record_event(action="test.concurrent", object_ref=f"W{n}", payload={"k": k})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert not Run.objects.filter(ok=False).exists(), list(
        Run.objects.filter(ok=False).values_list("summary", flat=True)
    )
    latest = AuditCheckpoint.objects.order_by("-sequence").first()
    assert latest is not None
    assert AuditEvent.objects.count() - latest.sequence < settings.AUDIT_CHECKPOINT_EVERY_EVENTS
    outcome = verify_chain()
    assert outcome.ok, outcome.line()
    assert outcome.entries == AuditEvent.objects.count()
