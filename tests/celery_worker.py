"""A real Celery worker for tests marked ``celery`` (``celery -A config worker`` subprocess).

The worker uses ``CELERY_TEST_BROKER_URL`` as broker and result backend, and the *test*
database pytest-django created, so a test using ``django_db(transaction=True)`` sees what the
worker commits and vice versa. Each pytest process (xdist worker) gets its own queue, so two
workers sharing one Redis database never take each other's tasks.

Usage: request the ``celery_worker`` fixture; tasks sent with ``.delay()`` go to it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings


@dataclass
class CeleryWorker:
    queue: str
    nodename: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(str(settings_dict['NAME']), safe='')}"


def _wait_until_ready(app: Any, worker: CeleryWorker, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited early:\n{worker.log_text()}")
        replies = app.control.ping(destination=[worker.nodename], timeout=1.0)
        if replies:
            return
        time.sleep(0.3)
    raise RuntimeError(f"the Celery worker did not answer within 60 s:\n{worker.log_text()}")


def _forget_connections(app: Any) -> None:
    """Drop the app's cached broker pools and result backend so new settings take effect.

    Celery caches them on first use (an eager test may already have done so with the
    in-process settings); these are the same resets Celery itself does after a fork.
    """
    if app._pool is not None:
        app._pool.force_close_all()
    app._after_fork()
    app._backend_cache = None
    app._local.backend = None


def _forget_the_workers_key_canaries(django_db_blocker: Any) -> None:
    """The worker wrote the test database's key canaries at start (operations.key_canary),
    committed; the tests expect a database as the migrations left it (a canary is data made
    with a key, so keys would no longer be generated)."""
    from fund.models import KeyCanary

    with django_db_blocker.unblock():
        KeyCanary.objects.all().delete()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CeleryWorker]:
    broker = os.environ.get("CELERY_TEST_BROKER_URL", "")
    if not broker:
        pytest.skip("needs CELERY_TEST_BROKER_URL")
    from django.db import connection

    from config.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("the Celery worker shares the test database: needs PostgreSQL")
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    tag = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    worker = CeleryWorker(
        queue=f"fundflow-test-{tag}",
        nodename=f"fundflow-test-{tag}@localhost",
        log=tmp_path_factory.mktemp("celery") / "worker.log",
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "DATABASE_URL": database_url,
        # The keys the test session uses (tests never write keys next to the project).
        "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
        "AUDIT_PUBLIC_KEY_FILE": str(settings.AUDIT_PUBLIC_KEY_FILE),
        "FIELD_ENCRYPTION_KEY_FILE": str(settings.FIELD_ENCRYPTION_KEY_FILE),
        "BLIND_INDEX_KEY_FILE": str(settings.BLIND_INDEX_KEY_FILE),
        "GENERATE_MISSING_KEYS": "1" if settings.GENERATE_MISSING_KEYS else "0",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool=solo", "--loglevel=INFO", "--queues", worker.queue, "--hostname",
        worker.nodename, "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    }
    with worker.log.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    _forget_connections(app)
    app.conf.update(
        broker_url=broker,
        result_backend=broker,
        task_always_eager=False,
        task_default_queue=worker.queue,
    )
    try:
        _wait_until_ready(app, worker, process)
        _forget_the_workers_key_canaries(django_db_blocker)
        yield worker
    finally:
        _stop(process)
        _forget_connections(app)
        app.conf.update(saved)
