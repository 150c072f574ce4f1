"""API load: concurrent officers against gunicorn + PostgreSQL, with 1, 2 and 4 workers.

Each client (a thread with ``http.client``, loopback only) repeats officer work: list the
worklist, open a case, move it on (``request_attestation`` on a submitted case of its own, so
clients never collide). Bounded: ``BENCH_API_CLIENTS`` clients x ``BENCH_API_ROUNDS`` rounds
x 3 requests per run, and at most ``BENCH_API_SECONDS`` seconds per run.

Database: ``BENCH_DATABASE_URL`` when it is PostgreSQL, else a dedicated database
``fundflow_bench`` on the local server (created by the caller). Production settings
(``DEBUG=0``, JSON logs) with throwaway keys; rate limits lifted for the run.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import Result

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "6"))
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "8"))
SECONDS = float(os.environ.get("BENCH_API_SECONDS", "90"))
WORKER_COUNTS = (1, 2, 4)


def _database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    return "postgres://fundflow:fundflow@127.0.0.1:5432/fundflow_bench"


def _key(path: Path, make: Callable[[], str]) -> str:
    """The bench database's own key (the other benches' key file), or a new one for a new
    database: the server refuses keys the stored data was not made with (issue #18)."""
    return path.read_text().strip() if path.exists() else make()


def _environment() -> dict[str, str]:
    from cryptography.fernet import Fernet
    from django.conf import settings

    field_key = _key(
        Path(settings.FIELD_ENCRYPTION_KEY_FILE), lambda: Fernet.generate_key().decode()
    )
    index_key = _key(Path(settings.BLIND_INDEX_KEY_FILE), lambda: "bench-blind-index")
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": field_key,
        "BLIND_INDEX_KEY": index_key,
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_ANON": "1000000/min",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "60",
    }


def prepare(cases: int) -> dict[str, Any]:
    """(In the subprocess.) An officer with a token, and ``cases`` submitted cases."""
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth.models import Group, User

    from api.services import issue_token
    from fund.models import Fund, FundKind, NeedCategory, Ombud, OmbudStatus, Organisation
    from workflows import services, step_inputs
    from workflows.services import NeedInput

    def user(name: str, role: str) -> User:
        u, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@bench"})
        u.groups.add(Group.objects.get_or_create(name=role)[0])
        return u

    fund, _ = Fund.objects.get_or_create(
        code="bench",
        defaults={
            "name": "Bench fund",
            "kind": FundKind.GENERAL,
            "allowed_categories": list(NeedCategory.values),
            "accounting_dimension": "BENCH",
            "max_per_item": Decimal("50000"),
        },
    )
    officer = user("bench-officer", "officer")
    fund.handlers.add(officer)
    org, _ = Organisation.objects.get_or_create(
        org_number="212000-0142",
        defaults={"name": "Bench org", "kind": "ngo", "verification_method": "bench"},
    )
    ombud_user = user("bench-ombud", "ombud")
    Ombud.objects.get_or_create(
        user=ombud_user, defaults={"organisation": org, "status": OmbudStatus.VERIFIED}
    )
    refs = []
    for n in range(cases):
        person = services.register_beneficiary(actor=ombud_user, name=f"Bench Person {n}")
        app = services.create_application(
            actor=ombud_user,
            fund=fund,
            beneficiary=person,
            items=[NeedInput(category="glasses", amount="1200")],
        )
        refs.append(services.transition(app, actor=ombud_user, step=step_inputs.Submit()).reference)
    _api_token, token = issue_token(officer, label="bench")
    return {"token": token, "cases": refs}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not listen in time")


class _Client(threading.Thread):
    def __init__(self, port: int, token: str, cases: list[str], deadline: float):
        super().__init__(daemon=True)
        self.port, self.cases, self.deadline = port, cases, deadline
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def _request(self, conn: http.client.HTTPConnection, method: str, path: str) -> None:
        started = time.perf_counter()
        try:
            conn.request(
                method, path, body=b"{}" if method == "POST" else None, headers=self.headers
            )
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                self.errors.append(f"{method} {path}: {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(f"{method} {path}: {exc!r}")
            conn.close()
        self.latencies.append(time.perf_counter() - started)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for reference in self.cases:
            if time.monotonic() > self.deadline:
                break
            self._request(conn, "GET", "/api/v1/applications/?state=submitted&page_size=25")
            self._request(conn, "GET", f"/api/v1/applications/{reference}/")
            self._request(
                conn, "POST", f"/api/v1/applications/{reference}/transitions/request_attestation/"
            )
        conn.close()


def _warm_up(port: int, token: str, workers: int) -> None:
    """Let every worker import, connect and build its URLconf before the clock starts."""
    for _ in range(4 * workers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            "GET", "/api/v1/applications/?page_size=1", headers={"Authorization": f"Token {token}"}
        )
        conn.getresponse().read()
        conn.close()


def _measure(env: dict[str, str], workers: int, token: str, cases: list[str]) -> dict[str, float]:
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application",
         "--config", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        try:
            _wait_for_port(port, process)
            _warm_up(port, token, workers)
        except (OSError, RuntimeError):
            log.seek(0)
            print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)
            raise
        deadline = time.monotonic() + SECONDS
        share = [cases[i::CLIENTS] for i in range(CLIENTS)]
        clients = [_Client(port, token, share[i], deadline) for i in range(CLIENTS)]
        started = time.perf_counter()
        for c in clients:
            c.start()
        for c in clients:
            c.join(SECONDS + 30)
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    latencies = sorted(lat for c in clients for lat in c.latencies)
    errors = [e for c in clients for e in c.errors]
    if errors:
        print("   errors:", errors[:5], file=sys.stderr)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "errors": float(len(errors)),
        "requests": float(len(latencies)),
    }


def run() -> list[Result]:
    env = _environment()
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if migrate.returncode != 0:
        raise RuntimeError(f"migrate failed: {migrate.stderr[-2000:]}")
    per_run = CLIENTS * ROUNDS
    prepared = subprocess.run(
        [sys.executable, "-c",
         "import json, sys; from bench.bench_api_load import prepare; "
         f"print(json.dumps(prepare({per_run * len(WORKER_COUNTS)})))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if prepared.returncode != 0:
        raise RuntimeError(f"prepare failed: {prepared.stderr[-2000:]}")
    data = json.loads(prepared.stdout.strip().splitlines()[-1])
    results: list[Result] = []
    baseline = None
    for index, workers in enumerate(WORKER_COUNTS):
        cases = data["cases"][index * per_run : (index + 1) * per_run]
        figures = _measure(env, workers, data["token"], cases)
        baseline = baseline or figures["rps"]
        name = f"api_load {CLIENTS} clients, {workers} gunicorn worker(s)"
        results += [
            Result(
                f"{name}: throughput", figures["rps"], "req/s", baseline if workers > 1 else None
            ),
            Result(f"{name}: p50 latency", figures["p50"], "ms"),
            Result(f"{name}: p95 latency", figures["p95"], "ms"),
            Result(
                f"{name}: errors", figures["errors"], f"of {figures['requests']:.0f}", target="0"
            ),
        ]
    return results
