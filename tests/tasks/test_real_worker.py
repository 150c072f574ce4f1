"""Tasks on a real Celery worker on Redis, sharing the PostgreSQL test database.

- a task runs on the worker and its effect is committed;
- a message delivered twice (same task id) does its work once;
- a worker SIGKILLed in the middle of a task loses nothing and doubles nothing: the message,
  never acknowledged (acks_late), comes back after the visibility timeout and the restarted
  worker does the work exactly once (the dead worker's transaction never committed).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from fund.models import Application
from reminders.models import Reminder, TaskExecution
from reminders.tasks import send_reminders
from tests.audit_lock import audit_lock
from tests.tasks.worker import FAST_REDELIVERY, shared_worker, wait_for, worker

__all__ = ["audit_lock", "shared_worker"]  # fixtures

pytestmark = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def late_case(world):
    app = world.run(world.new_application("1000"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    Application.objects.filter(pk=app.pk).update(
        state_changed_at=timezone.now() - timedelta(days=20)
    )
    return app


def _mails(directory) -> int:
    return len(list(directory.glob("*.log"))) if directory.exists() else 0


def test_a_task_runs_on_the_real_worker(late_case, shared_worker):
    result = send_reminders.delay()

    outcome = result.get(timeout=60)

    assert outcome["applications"] == [late_case.reference]
    assert Reminder.objects.filter(application=late_case).count() == 1
    assert f"reminders.send_reminders[{result.id}] succeeded" in shared_worker.log_text()


def test_a_duplicate_delivery_does_not_double_the_effect(late_case, tmp_path):
    mails = tmp_path / "mail"
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mails),
    }
    with worker(tmp_path, **env) as running:
        send_reminders.apply_async(task_id="duplicate-1")
        send_reminders.apply_async(task_id="duplicate-1")  # the same message, again
        wait_for(
            lambda: (
                running.log_text().count("reminders.send_reminders[duplicate-1] succeeded") == 2
            ),
            what="both deliveries to finish",
        )

    assert Reminder.objects.count() == 1
    assert TaskExecution.objects.filter(key="reminders.send_reminders:duplicate-1").count() == 1
    assert AuditEvent.objects.filter(action="reminders.created").count() == 1
    assert _mails(mails) == 1


def test_a_killed_workers_task_is_redone_exactly_once_after_restart(
    late_case, tmp_path, audit_lock
):
    mails = tmp_path / "mail"
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mails),
        **FAST_REDELIVERY,
    }
    with worker(tmp_path, **env) as running:
        # Hold the audit chain's append lock: the task stops mid-transaction, after it
        # registered its key and made the reminders, before it can commit.
        audit_lock.hold()
        send_reminders.apply_async(task_id="killed-1")
        wait_for(audit_lock.waiting, what="the task to block")
        running.kill()
        audit_lock.release()
        time.sleep(1)
        assert not TaskExecution.objects.exists()  # the dead worker committed nothing
        assert not Reminder.objects.exists()

        running.start()
        wait_for(
            lambda: TaskExecution.objects.filter(key="reminders.send_reminders:killed-1").exists(),
            timeout=90,
            what=lambda: f"the redelivered task; worker logs:\n{running.log_text()[-4000:]}",
        )
        wait_for(
            lambda: "reminders.send_reminders[killed-1] succeeded" in running.log_text(),
            what="the worker to report success",
        )
        time.sleep(4)  # past another visibility timeout: nothing runs a third time

    log = running.log_text()
    assert log.count("Task reminders.send_reminders[killed-1] received") == 2
    assert Reminder.objects.count() == 1
    assert AuditEvent.objects.filter(action="reminders.created").count() == 1
    assert _mails(mails) == 1
