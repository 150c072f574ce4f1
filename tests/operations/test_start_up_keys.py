"""A database that does not answer at start defers the key check; wrong keys still refuse
(issue #18, review18: a worker recycled during an outage halted gunicorn for good)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import OperationalError, ProgrammingError
from django.test import Client

from audit.checkpoints import create_checkpoint
from audit.signing import _generate
from core import crypto
from fund.models import KeyCanary, KeyCanaryKind
from operations import key_canary
from operations.key_canary import KeysNotUsable, check_keys_at_start
from operations.start_up_keys import start_up_check, wait_for_the_keys_check
from tests.fixtures import World
from tests.operations.test_key_canary import keys as keys  # the fixture

ALL_KINDS = set(KeyCanaryKind.values)
PAGE = "/login/"
API = "/api/v1/applications/"


@pytest.fixture(autouse=True)
def _fresh_start_up_check() -> Iterator[None]:
    start_up_check.reset()
    yield
    start_up_check.reset()


def _database_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key check meets a database that does not answer (as a lost server or a missing
    SQLite folder does: OperationalError at the first query)."""

    def unreachable() -> bool:
        raise OperationalError("unable to open database file")

    monkeypatch.setattr(key_canary, "canary_table_exists", unreachable)


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "fundflow.operations" and r.levelno == level]


@pytest.mark.django_db
@pytest.mark.usefixtures("keys")
def test_a_server_started_while_the_database_is_away_checks_the_keys_at_the_first_request(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """'Recovery needs no intervention': the process starts, says once why the keys are not
    checked yet, answers the lost database's 503 meanwhile, and checks them once it answers."""
    world.new_application("500")
    caplog.set_level(logging.INFO, logger="fundflow.operations")
    _database_away(monkeypatch)

    start_up_check.at_start()  # no refusal

    client = Client()
    page, api = client.get(PAGE), client.get(API)
    assert page.status_code == 503 and page["Retry-After"]
    assert api.status_code == 503 and api.json()["code"] == "database_unavailable"
    assert client.get("/healthz").status_code == 200, "the process is alive"
    [warning] = _records(caplog, logging.WARNING)
    assert "keys were not checked yet" in warning.getMessage()
    assert not KeyCanary.objects.exists()

    monkeypatch.undo()  # the database answers again
    assert client.get(PAGE).status_code == 200
    assert start_up_check.done
    assert set(KeyCanary.objects.values_list("kind", flat=True)) == ALL_KINDS
    assert len(_records(caplog, logging.WARNING)) == 1, "one WARNING for the whole outage"


@pytest.mark.django_db
@pytest.mark.usefixtures("keys")
def test_keys_found_wrong_once_the_database_answers_are_never_served(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    settings,
) -> None:
    world.new_application("500")
    check_keys_at_start()  # an earlier start wrote the canaries
    _database_away(monkeypatch)
    start_up_check.at_start()
    monkeypatch.undo()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # staging's key
    crypto.reset_key_cache()

    client = Client()
    for _ in range(3):
        assert client.get(PAGE).status_code == 503
        assert client.get(API).json()["code"] == "database_unavailable"
    [critical] = _records(caplog, logging.CRITICAL)
    assert "The field-encryption key in FIELD_ENCRYPTION_KEYS is not the one" in (
        critical.getMessage()
    )
    assert "503 to every request" in critical.getMessage()
    assert "field_encryption" in client.get("/readyz").json()["checks"]["keys"]


@pytest.mark.django_db
@pytest.mark.usefixtures("keys")
def test_a_worker_started_while_the_database_is_away_waits_for_it_before_any_task(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world.new_application("500")
    _database_away(monkeypatch)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            monkeypatch.undo()  # the database answers again

    wait_for_the_keys_check(retry_every=2, sleep=sleep)

    assert waits == [2, 2, 2]
    assert len(_records(caplog, logging.WARNING)) == 1
    assert set(KeyCanary.objects.values_list("kind", flat=True)) == ALL_KINDS


@pytest.mark.django_db
@pytest.mark.usefixtures("keys")
def test_a_worker_that_finds_wrong_keys_once_the_database_answers_refuses(
    world: World, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    world.new_application("500")
    check_keys_at_start()
    _database_away(monkeypatch)
    settings.BLIND_INDEX_KEY = "not-this-database's-index-key"
    crypto.reset_key_cache()

    with pytest.raises(KeysNotUsable, match="The blind-index key in BLIND_INDEX_KEY is not"):
        wait_for_the_keys_check(retry_every=0, sleep=lambda _s: monkeypatch.undo())


@pytest.mark.django_db
def test_a_database_error_that_is_no_outage_still_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing grant or a broken table will not mend by waiting: refuse, and say what."""

    def denied() -> bool:
        raise ProgrammingError("permission denied for table fund_keycanary")

    monkeypatch.setattr(key_canary, "canary_table_exists", denied)
    with pytest.raises(KeysNotUsable, match=r"could not be checked .*ProgrammingError"):
        start_up_check.at_start()


# --- the audit key against the checkpoints (a database from before canaries) ----------------


@pytest.mark.django_db
@pytest.mark.usefixtures("keys")
def test_a_database_from_before_canaries_with_its_own_audit_key_starts_and_gets_its_canary(
    world: World,
) -> None:
    world.new_application("500")
    assert create_checkpoint() is not None
    KeyCanary.objects.all().delete()

    check_keys_at_start()

    assert set(KeyCanary.objects.values_list("kind", flat=True)) == ALL_KINDS


@pytest.mark.django_db
def test_with_a_signer_process_the_public_key_is_held_to_the_checkpoints(
    world: World,
    keys: Path,
    settings,
) -> None:
    """AUDIT_SIGNER=socket:…: only the public key is here, and it must be the checkpoints'."""
    world.new_application("500")
    assert create_checkpoint() is not None
    KeyCanary.objects.all().delete()
    settings.AUDIT_SIGNER = "socket:/run/fundflow-signer/signer.sock"
    (keys / "audit-signing.pem").unlink()  # with the signer, not here
    public = keys / "audit-signing.pub.pem"
    public.unlink()
    with pytest.raises(KeysNotUsable, match="The audit signing key is missing"):
        check_keys_at_start()

    _generate(keys / "other.pem", public)  # another signer's public key
    with pytest.raises(KeysNotUsable, match=r"The latest signed checkpoint \(#\d+\) names the key"):
        check_keys_at_start()
    assert not KeyCanary.objects.exists()


# --- a real Celery worker started while the database is away --------------------------------


def test_a_celery_worker_started_while_the_database_is_away_starts_once_it_answers(
    tmp_path: Path,
) -> None:
    from tests.operations.test_key_canary import _embedded_env, _run

    var, folder = tmp_path / "var", tmp_path / "db"
    folder.mkdir()
    env = _embedded_env(var, folder / "db.sqlite3")
    env.update(CELERY_BROKER_URL="memory://", CELERY_RESULT_BACKEND="cache+memory://")
    first_start = ("manage.py", "shell", "-c", "import config.wsgi")
    for step in (("manage.py", "migrate", "--noinput"), first_start):
        done = _run(env, *step)
        assert done.returncode == 0, done.stderr[-3000:]
    folder.rename(tmp_path / "db-away")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--loglevel=INFO"],
            cwd=Path(__file__).resolve().parents[2], env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        assert _wait_for_text(log, "keys were not checked yet", 60), log.read_text()[-3000:]
        time.sleep(1)
        assert worker.poll() is None, "waiting, not exited"
        assert " ready." not in log.read_text(), "no task is taken before the keys are checked"
        (tmp_path / "db-away").rename(folder)
        assert _wait_for_text(log, " ready.", 60), log.read_text()[-3000:]
        assert "the keys were checked and fit" in log.read_text()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _wait_for_text(log: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        time.sleep(0.3)
    return False
