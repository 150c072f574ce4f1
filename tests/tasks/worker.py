"""Start and stop (or kill) a real ``celery worker`` with extra environment, per test.

The session-wide ``celery_worker`` fixture (``tests/celery_worker.py``) serves tests that only
need a running worker; the tests here need their own: with a short visibility timeout, a
mail directory, and one they may SIGKILL and start again on the same queue.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from tests.celery_worker import CeleryWorker, _database_url, _stop, _wait_until_ready

APP_KEYS = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")

#: Worker environment for tests that kill it: an unacknowledged message comes back after 3 s
#: (kombu looks for them every second; its default is every ~100 s).
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


def wait_for(
    condition: Callable[[], Any], timeout: float = 60, what: str | Callable[[], str] = ""
) -> Any:
    """Poll ``condition`` until it is truthy (and return it), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


def conninfo() -> str:
    """A libpq connection string for the test database (for a second, independent session)."""
    s = connection.settings_dict
    return (
        f"dbname={s['NAME']} user={s['USER']} password={s['PASSWORD']} "
        f"host={s['HOST'] or 'localhost'} port={s['PORT'] or 5432}"
    )


def reset_app_caches() -> None:
    """Forget the connection pools and result backend the app built from an older config.

    An eager task earlier in the same test process builds them from the embedded-mode config
    (no broker, no result backend); later ``app.conf`` changes would not reach them.
    """
    celery: Any = app  # private attributes, not in the type stubs
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    celery._backend_cache = None
    celery._local.__dict__.pop("backend", None)


@pytest.fixture
def shared_worker(request: pytest.FixtureRequest) -> CeleryWorker:
    """The session's worker (tests/celery_worker.py), with the app's caches made current.

    Reset before the session fixture starts (it pings the worker through the app's pool)
    and again after (tests may have run eager tasks since it started).
    """
    reset_app_caches()
    celery_worker: CeleryWorker = request.getfixturevalue("celery_worker")
    reset_app_caches()
    return celery_worker


class Worker:
    def __init__(self, queue: str, log_dir: Path, extra_env: dict[str, str]):
        self.queue = queue
        self.log_dir = log_dir
        self.extra_env = extra_env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.info: CeleryWorker | None = None

    def start(self, *, wait: bool = True) -> None:
        """Start the worker; ``wait`` for it to answer a ping (a solo worker busy with a
        blocked task cannot)."""
        self.starts += 1
        broker = os.environ["CELERY_TEST_BROKER_URL"]
        self.info = CeleryWorker(
            queue=self.queue,
            nodename=f"{self.queue}-{self.starts}@localhost",
            log=self.log_dir / f"worker-{self.starts}.log",
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": broker,
            "DATABASE_URL": _database_url(connection.settings_dict),
            "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
            "AUDIT_PUBLIC_KEY_FILE": str(settings.AUDIT_PUBLIC_KEY_FILE),
            "FIELD_ENCRYPTION_KEY_FILE": str(settings.FIELD_ENCRYPTION_KEY_FILE),
            "BLIND_INDEX_KEY_FILE": str(settings.BLIND_INDEX_KEY_FILE),
            **self.extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
            "--loglevel=INFO", "--queues", self.queue, "--hostname", self.info.nodename,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.info.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        if wait:
            _wait_until_ready(app, self.info, self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no warm shutdown, nothing acknowledged
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def log_text(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log"))
        )


@contextmanager
def worker(tmp_path: Path, *, started: bool = True, **extra_env: str) -> Iterator[Worker]:
    """A worker on its own queue; tasks sent meanwhile go to it.

    With ``started=False`` tasks wait in the queue until the test calls ``start()``.
    """
    broker = os.environ["CELERY_TEST_BROKER_URL"]
    queue = f"fundflow-tasks-{uuid.uuid4().hex[:10]}"
    saved: dict[str, Any] = {key: app.conf[key] for key in APP_KEYS}
    app.conf.update(
        broker_url=broker, result_backend=broker, task_always_eager=False, task_default_queue=queue
    )
    reset_app_caches()
    running = Worker(queue, tmp_path, extra_env)
    try:
        if started:
            running.start()
        yield running
    finally:
        running.stop()
        app.conf.update(saved)
        reset_app_caches()
        # The connection pool is kombu's, shared per broker URL: closing it here would break
        # the next test that sends a task. The session's worker fixture closes it at the end.
