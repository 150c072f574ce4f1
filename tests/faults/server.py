"""A real web server for fault tests: gunicorn (one sync worker) on the PostgreSQL test database.

It runs as in production (``DEBUG=0``, ``config/gunicorn.conf.py``, JSON logs) with throwaway
secrets, and the test session's field-encryption and audit keys, so it reads what the tests
wrote. The gunicorn master restarts a worker that dies, as systemd would restart the service.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.celery_worker import _database_url
from tests.tasks.worker import wait_for


@dataclass
class Answer:
    status: int
    body: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue  # it exited meanwhile
        if fields.get("PPid", "").strip() == str(pid) and fields.get("State", "")[:1] != "Z":
            found.append(int(status.parent.name))
    return sorted(found)


class WebServer:
    def __init__(self, log: Path, var_dir: Path) -> None:
        self.log = log
        self.var_dir = var_dir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        key_file = Path(settings.FIELD_ENCRYPTION_KEY_FILE)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": _database_url(connection.settings_dict),
            "DEBUG": "0",
            "SECRET_KEY": "faults-" + secrets.token_urlsafe(40),
            "FIELD_ENCRYPTION_KEYS": key_file.read_text().strip(),
            "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY
            or Path(settings.BLIND_INDEX_KEY_FILE).read_text().strip(),
            "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
            "AUDIT_PUBLIC_KEY_FILE": str(settings.AUDIT_PUBLIC_KEY_FILE),
            "FUNDFLOW_VAR_DIR": str(self.var_dir),
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_BROKER_URL": "",
            "LOG_LEVEL": "INFO",
        }

    def start(self) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--config", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.worker()
        wait_for(self._listening, timeout=30, what=lambda: f"gunicorn to listen:\n{self.logs()}")

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def worker(self, other_than: int | None = None) -> int:
        """The pid of the (one) worker process, waiting for the master to boot one."""
        assert self.process is not None
        master = self.process.pid

        def booted() -> int | None:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.logs()}")
            workers = [pid for pid in _children(master) if pid != other_than]
            return workers[0] if workers else None

        return int(wait_for(booted, timeout=30, what="a gunicorn worker"))

    def kill_worker(self) -> int:
        """SIGKILL the worker process; the pid it had."""
        pid = self.worker()
        os.kill(pid, signal.SIGKILL)
        return pid

    def request(
        self, method: str, path: str, token: str, timeout: float = 30, body: Any = None
    ) -> Answer:
        """One request on a fresh connection; connection errors propagate."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(
                method,
                path,
                body=json.dumps(body if body is not None else {}) if method == "POST" else None,
                headers={
                    "Authorization": f"Token {token}",
                    "Content-Type": "application/json",
                    "Accept-Language": "en",
                },
            )
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = raw.decode(errors="replace")
        return Answer(response.status, payload)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful shutdown
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[WebServer]:
    """gunicorn serving the test database; start it once the test's data is committed."""
    server = WebServer(tmp_path / "gunicorn.log", tmp_path / "var")
    try:
        yield server
    finally:
        server.stop()
