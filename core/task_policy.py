"""How every task that changes something is declared: ``@shared_task(..., **RELIABLE)``.

Acknowledged only after it finished (a worker that dies mid-task leaves the message to be
delivered again), retried with exponential backoff on database hiccups, and written so that
running it twice does its work once (see ``reminders.once.run_once``).
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

RELIABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
