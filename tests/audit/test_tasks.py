"""The periodic audit tasks, in-process and on a real Celery worker."""

from __future__ import annotations

import logging

import pytest
from django.core import mail

from audit import tasks
from audit.models import AuditCheckpoint, AuditEvent
from tests.audit.conftest import append, attacker


def test_the_checkpoint_task_signs_the_head_and_is_idempotent(chain):
    chain(5)
    first = tasks.create_checkpoint.delay().get()
    second = tasks.create_checkpoint.delay().get()
    assert first == second == {"sequence": 5, "hash": AuditEvent.objects.get(sequence=5).hash}
    assert AuditCheckpoint.objects.count() == 1


def test_the_verify_task_reports_an_intact_chain_quietly(chain, settings):
    settings.ADMINS = [("Audit", "audit@example.org")]
    chain(5)
    result = tasks.verify_chain.delay().get()
    assert result == {
        "ok": True,
        "entries": 5,
        "last_sequence": 5,
        "broken_sequence": None,
        "problem": None,
    }
    assert mail.outbox == []


def test_a_broken_chain_is_logged_at_error_and_mailed_to_the_admins(chain, settings, caplog):
    settings.ADMINS = [("Audit", "audit@example.org")]
    chain(5)
    with attacker():
        AuditEvent.objects.filter(sequence=3).delete()
    with caplog.at_level(logging.ERROR, logger="fundflow.audit"):
        result = tasks.verify_chain.delay().get()
    assert result["ok"] is False
    assert (result["broken_sequence"], result["problem"]) == (3, "missing (deleted)")
    assert any(
        r.levelno == logging.ERROR and "sequence 3" in r.getMessage() for r in caplog.records
    )
    (message,) = mail.outbox
    assert message.to == ["audit@example.org"]
    assert "sequence 3" in message.subject


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_checkpoint_task_runs_on_a_real_worker(celery_worker):
    head = append(4)[-1]  # (restoring the roles at setup may have logged events before)
    result = tasks.create_checkpoint.delay()
    payload = result.get(timeout=60)
    assert payload == {"sequence": head.sequence, "hash": head.hash}
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.hash) == (head.sequence, head.hash)
    assert "audit.create_checkpoint" in celery_worker.log_text()
    assert tasks.verify_chain.delay().get(timeout=60)["ok"] is True
