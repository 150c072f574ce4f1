"""The Celery application. Without a broker URL, tasks run in-process (embedded mode).

Every task that changes something is declared with ``**RELIABLE`` (core/task_policy.py).
"""

import contextlib
import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fundflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_tokens: dict[str, object] = {}


@task_prerun.connect
def _log_with_task_id(task_id: str | None = None, **_kw: Any) -> None:
    from config.request_id import set_request_id

    if task_id:
        _tokens[task_id] = set_request_id(f"task-{task_id}")


@task_postrun.connect
def _forget_task_id(task_id: str | None = None, **_kw: Any) -> None:
    from config.request_id import reset_request_id

    token = _tokens.pop(task_id or "", None)
    if token is not None:
        # ValueError: set in another context (an eager task inside a request).
        with contextlib.suppress(ValueError):
            reset_request_id(token)
