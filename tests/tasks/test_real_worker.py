"""Tasks on a real Celery worker on Redis, sharing the PostgreSQL test database.

- a task runs on the worker and its effect is committed;
- a message delivered twice (same task id) does its work once;
- a worker SIGKILLed in the middle of a task loses nothing and doubles nothing: the message,
  never acknowledged (acks_late), comes back after the visibility timeout and the restarted
  worker does the work exactly once (the dead worker's transaction never committed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import APPEND_LOCK_KEY
from fund.models import Application
from reminders.models import Reminder, TaskExecution
from reminders.tasks import send_reminders
from tests.tasks.worker import shared_worker, worker

__all__ = ["shared_worker"]  # a fixture

pytestmark = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _wait_for(
    condition: Callable[[], Any], timeout: float = 60, what: str | Callable[[], str] = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


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
        _wait_for(
            lambda: (
                running.log_text().count("reminders.send_reminders[duplicate-1] succeeded") == 2
            ),
            what="both deliveries to finish",
        )

    assert Reminder.objects.count() == 1
    assert TaskExecution.objects.filter(key="reminders.send_reminders:duplicate-1").count() == 1
    assert AuditEvent.objects.filter(action="reminders.created").count() == 1
    assert _mails(mails) == 1


def _conninfo() -> str:
    s = connection.settings_dict
    return (
        f"dbname={s['NAME']} user={s['USER']} password={s['PASSWORD']} "
        f"host={s['HOST'] or 'localhost'} port={s['PORT'] or 5432}"
    )


def _blocked_on_audit_lock(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return bool(row and row[0])


def test_a_killed_workers_task_is_redone_exactly_once_after_restart(late_case, tmp_path):
    mails = tmp_path / "mail"
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mails),
        "CELERY_VISIBILITY_TIMEOUT": "3",
        # Look for unacknowledged tasks every second (kombu's default: every ~100 s).
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
    }
    blocker = psycopg.connect(_conninfo(), autocommit=True)
    try:
        with worker(tmp_path, **env) as running:
            # Hold the audit chain's append lock: the task stops mid-transaction, after it
            # registered its key and made the reminders, before it can commit.
            blocker.execute("SELECT pg_advisory_lock(%s)", [APPEND_LOCK_KEY])
            send_reminders.apply_async(task_id="killed-1")
            _wait_for(lambda: _blocked_on_audit_lock(blocker), what="the task to block")
            running.kill()
            blocker.execute("SELECT pg_advisory_unlock(%s)", [APPEND_LOCK_KEY])
            time.sleep(1)
            assert not TaskExecution.objects.exists()  # the dead worker committed nothing
            assert not Reminder.objects.exists()

            running.start()
            _wait_for(
                lambda: TaskExecution.objects.filter(
                    key="reminders.send_reminders:killed-1"
                ).exists(),
                timeout=90,
                what=lambda: f"the redelivered task; worker logs:\n{running.log_text()[-4000:]}",
            )
            _wait_for(
                lambda: "reminders.send_reminders[killed-1] succeeded" in running.log_text(),
                what="the worker to report success",
            )
            time.sleep(4)  # past another visibility timeout: nothing runs a third time
    finally:
        blocker.close()

    log = running.log_text()
    assert log.count("Task reminders.send_reminders[killed-1] received") == 2
    assert Reminder.objects.count() == 1
    assert AuditEvent.objects.filter(action="reminders.created").count() == 1
    assert _mails(mails) == 1
