"""Review of issue #18's key canary: sequences that could still start on a key not the data's."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from audit.checkpoints import create_checkpoint
from audit.models import AuditCheckpoint
from core import crypto
from fund.models import KeyCanary
from operations.key_canary import KeysNotUsable, check_keys_at_start
from tests.fixtures import World
from tests.operations.test_key_canary import keys  # noqa: F401 - the fixture, shared


def _checkpointed_database_from_before_canaries(world: World) -> AuditCheckpoint:
    """A case, a signed checkpoint, and no canary: a backup taken before issue #18."""
    world.new_application("500")
    checkpoint = create_checkpoint()
    assert checkpoint is not None
    KeyCanary.objects.all().delete()
    return checkpoint


@pytest.mark.django_db
def test_a_restore_from_before_canaries_without_its_audit_key_refuses_to_start(
    world: World,
    keys: Path,  # noqa: F811
) -> None:
    """'A database restored without its keys … silently makes a new key': the audit key too.

    The checkpoints the auditors hold name the old key's fingerprint; the data probe asks
    only for the audit canary, which a backup from before canaries does not have.
    """
    checkpoint = _checkpointed_database_from_before_canaries(world)
    (keys / "audit-signing.pem").unlink()
    (keys / "audit-signing.pub.pem").unlink()
    crypto.reset_key_cache()

    with pytest.raises(KeysNotUsable, match="audit signing key"):
        check_keys_at_start()

    assert not (keys / "audit-signing.pem").exists(), "no audit key was generated"
    assert AuditCheckpoint.objects.get(pk=checkpoint.pk).key_fingerprint


@pytest.mark.django_db
def test_no_canary_is_made_with_an_audit_key_the_stored_checkpoints_do_not_name(
    world: World,
    keys: Path,  # noqa: F811
) -> None:
    """'Check that the configured keys decrypt a canary row' must not bless a wrong key: on a
    database from before canaries, another installation's audit key pair becomes the canary."""
    _checkpointed_database_from_before_canaries(world)
    from audit.signing import _generate

    (keys / "audit-signing.pem").unlink()
    (keys / "audit-signing.pub.pem").unlink()
    _generate(keys / "audit-signing.pem", keys / "audit-signing.pub.pem")  # staging's pair
    crypto.reset_key_cache()

    with pytest.raises(KeysNotUsable, match="audit signing key"):
        check_keys_at_start()
    assert not KeyCanary.objects.exists()


# --- a real gunicorn whose worker is recycled while the database is away ----------------------


def _get(port: int, path: str) -> int | None:
    """The status of GET path, or None when nothing answers."""
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path, headers={"Host": "localhost"})
        return conn.getresponse().status
    except OSError:
        return None


def _wait_for(port: int, seconds: float = 60) -> int | None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = _get(port, "/healthz")
        if status is not None:
            return status
        time.sleep(0.3)
    return None


def test_a_database_lost_while_a_worker_recycles_needs_no_intervention_to_recover(
    tmp_path: Path,
) -> None:
    """'Recovery needs no intervention': gunicorn recycles workers (max_requests); a worker
    booting while the database does not answer raises at import (config.wsgi), gunicorn
    treats that as 'Worker failed to boot' and the master halts — the site stays down after
    the database is back, until someone restarts it."""
    import subprocess
    import sys
    import time

    from tests.operations.test_key_canary import _embedded_env, _free_port, _run

    var, folder = tmp_path / "var", tmp_path / "db"
    folder.mkdir()
    env = _embedded_env(var, folder / "db.sqlite3")
    env["ALLOWED_HOSTS"] = "localhost"
    for step in (
        ("manage.py", "migrate", "--noinput"),
        ("manage.py", "shell", "-c", "import config.wsgi"),
    ):
        done = _run(env, *step)
        assert done.returncode == 0, done.stderr[-3000:]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--max-requests", "1"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert _wait_for(port) == 200
        folder.rename(tmp_path / "db-away")  # the database is gone for a moment…
        # …while the worker, at its max_requests, is replaced (the request above was its one).
        time.sleep(8)
        (tmp_path / "db-away").rename(folder)  # …and is back
        assert _wait_for(port, 20) == 200, "the site is back without anyone restarting it"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        assert server.stdout is not None
        print(server.stdout.read().decode(errors="replace")[-3000:])
