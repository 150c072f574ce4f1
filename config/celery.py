"""The Celery application. Without a broker URL, tasks run in-process (embedded mode).

Every task that changes something is declared with ``**RELIABLE`` (core/task_policy.py).
"""

import contextlib
import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

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


@worker_init.connect
def _refuse_to_start_without_the_keys(**_kw: Any) -> None:
    """A worker with a missing or wrong key would fail (or make a new key) on every task.

    While the database does not answer, the worker waits before taking any task and checks
    the keys once it does (``operations.start_up_keys``). SystemExit, not an exception:
    Celery logs a signal handler's exceptions and goes on.
    """
    from operations.key_canary import KeysNotUsable
    from operations.start_up_keys import wait_for_the_keys_check

    try:
        wait_for_the_keys_check()
    except KeysNotUsable as refused:
        raise SystemExit(str(refused)) from refused
