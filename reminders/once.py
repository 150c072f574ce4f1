"""Run a task's work once per delivery key, however often the message is delivered.

The key (by default the task's name and id: a redelivered or duplicated message has the same
id) is inserted in the same transaction as the work. A second delivery waits on the unique
index until the first commits, then finds the key and does nothing; if the first rolled back
(its worker died), the key is gone and the second does the work. Retries of one task keep
its id, and a failed attempt leaves no key, so a retry still works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from reminders.models import TaskExecution

T = TypeVar("T")


def delivery_key(task: Any) -> str:
    return f"{task.name}:{task.request.id}"


def run_once(task: Any, work: Callable[[], T], *, key: str | None = None) -> T | None:
    """``work()`` inside one transaction with the key's row; None when already done."""
    key = key or delivery_key(task)
    with transaction.atomic():
        try:
            with transaction.atomic():
                TaskExecution.objects.create(key=key, task=task.name, finished_at=timezone.now())
        except IntegrityError:
            return None
        return work()
