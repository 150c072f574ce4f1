"""Celery beat runs the daily audit checkpoint, the nightly verification and the reminders."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled == {
        "audit.create_checkpoint",
        "audit.verify_chain",
        "reminders.send_reminders",
    }
    assert scheduled <= set(app.tasks)


def test_changing_tasks_are_acknowledged_late_and_retried():
    app.loader.import_default_modules()
    for name in ("reminders.send_reminders", "accounting.generate_payout_file"):
        task = app.tasks[name]
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert task.max_retries and getattr(task, "retry_backoff", None)


def test_a_dead_workers_task_comes_back_after_the_visibility_timeout():
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 60
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
