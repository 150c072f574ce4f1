"""Issue #15: checkpoints are made in every mode, without a worker or a scheduler.

Transactional tests: the checkpoint follows a real commit, as it does after a request.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from audit.checkpoints import checkpoint_due, create_checkpoint
from audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditVerificationRun
from tests.audit.conftest import append, attacker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def base(transactional_db: None) -> int:
    """Events that setting up the database may have logged; the test's own come after."""
    return AuditHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0


@pytest.fixture
def automatic(settings, base):
    settings.AUDIT_AUTO_CHECKPOINT = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 5
    settings.AUDIT_CHECKPOINT_EVERY_MINUTES = 60
    return settings


def test_the_first_committed_event_gets_a_checkpoint_without_any_worker(automatic, base):
    append(2)
    (checkpoint,) = AuditCheckpoint.objects.all()
    assert checkpoint.sequence == base + 2 and checkpoint.note
    assert AuditVerificationRun.objects.filter(kind="checkpoint", ok=True).exists()


def test_a_checkpoint_follows_n_events_in_the_request_that_crosses_the_threshold(automatic, base):
    for _ in range(4):
        append(3)
    # +3 (none before) -> +6 is 3 past -> +9 is 6 past (>= 5) -> +12 is 3 past.
    sequences = list(AuditCheckpoint.objects.values_list("sequence", flat=True))
    assert sequences == [base + 3, base + 9]


def test_one_transaction_with_many_events_makes_one_checkpoint_after_its_commit(automatic, base):
    append(12)
    assert list(AuditCheckpoint.objects.values_list("sequence", flat=True)) == [base + 12]


def test_a_rolled_back_change_makes_no_checkpoint(automatic, base):
    with pytest.raises(RuntimeError), transaction.atomic():
        append(2)
        raise RuntimeError("the change failed")
    assert not AuditCheckpoint.objects.exists()


def test_an_old_checkpoint_with_events_after_it_is_due_after_the_set_minutes(automatic, base):
    automatic.AUDIT_AUTO_CHECKPOINT = False
    append(2)
    assert create_checkpoint() is not None
    append(1)
    assert not checkpoint_due()
    automatic.AUDIT_CHECKPOINT_EVERY_MINUTES = 0
    assert checkpoint_due()


def test_the_first_request_after_an_idle_spell_makes_the_due_checkpoint(automatic, base):
    automatic.AUDIT_AUTO_CHECKPOINT = False
    append(2)
    assert not AuditCheckpoint.objects.exists()
    automatic.AUDIT_AUTO_CHECKPOINT = True
    Client().get("/login/")
    assert AuditCheckpoint.objects.get().sequence == base + 2


def test_each_new_checkpoint_is_mailed_to_the_auditors(automatic, base):
    automatic.AUDIT_CHECKPOINT_RECIPIENTS = ["revisor@example.org"]
    append(1)
    (message,) = mail.outbox
    assert message.to == ["revisor@example.org"]
    assert "fundflow-audit-checkpoints/v1" in message.body
    assert AuditCheckpoint.objects.get().note in message.body


def test_a_checkpoint_refused_over_a_broken_chain_is_recorded_and_alerted(automatic, base):
    automatic.ADMINS = [("Audit", "audit@example.org")]
    automatic.AUDIT_AUTO_CHECKPOINT = False
    append(3)
    with attacker():
        AuditEvent.objects.filter(sequence=base + 2).update(payload={"amount": "1.00"})
    automatic.AUDIT_AUTO_CHECKPOINT = True
    append(1)  # the user's change stands
    assert AuditEvent.objects.count() == base + 4
    assert not AuditCheckpoint.objects.exists()
    run = AuditVerificationRun.objects.get(kind="checkpoint")
    assert not run.ok and f"sequence {base + 2}" in run.summary
    assert any("broken" in m.subject.lower() for m in mail.outbox)


@pytest.mark.postgres
def test_an_automatic_checkpoint_never_queues_behind_appends(automatic, base):
    """A request must not hang on the append lock for a checkpoint: it is skipped, not awaited."""
    import time

    from audit.checkpoints import checkpoint_if_due
    from tests.audit_lock import AuditLock

    automatic.AUDIT_AUTO_CHECKPOINT = False
    append(2)
    automatic.AUDIT_AUTO_CHECKPOINT = True
    lock = AuditLock()
    lock.hold()
    try:
        started = time.monotonic()
        checkpoint_if_due()
        assert time.monotonic() - started < 5
        assert not AuditCheckpoint.objects.exists()
    finally:
        lock.release()
        lock.session.close()
    checkpoint_if_due()
    assert AuditCheckpoint.objects.get().sequence == base + 2
