"""Daily reminders (Celery beat: ``reminders.send_reminders``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.task_policy import RELIABLE
from reminders import services
from reminders.once import run_once


@shared_task(name="reminders.send_reminders", bind=True, **RELIABLE)
def send_reminders(self: Any) -> dict[str, Any] | None:
    """Reminders for every case waiting too long; a duplicate delivery does nothing."""
    return run_once(self, services.send_due_reminders)
