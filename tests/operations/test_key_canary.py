"""A server refuses to start without the right keys (issue #18, key canary).

A database restored without its keys used to start, make a new key, accept new cases under
it and answer 500 on every old case. Each key now leaves a canary in the database, and every
server process checks the configured keys against it before it serves.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from audit.signing import signing_key
from core import crypto
from fund.models import Beneficiary, KeyCanary, KeyCanaryKind
from operations.key_canary import KeysNotUsable, check_keys_at_start
from tests.fixtures import World

ALL_KINDS = set(KeyCanaryKind.values)


@pytest.fixture
def keys(settings, tmp_path: Path) -> Iterator[Path]:
    """The embedded mode's key files in a folder of the test's own (so it may lose them)."""
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    for setting, name in (
        ("FIELD_ENCRYPTION_KEY_FILE", "field-encryption.key"),
        ("BLIND_INDEX_KEY_FILE", "blind-index.key"),
        ("AUDIT_SIGNING_KEY_FILE", "audit-signing.pem"),
        ("AUDIT_PUBLIC_KEY_FILE", "audit-signing.pub.pem"),
    ):
        shutil.copy(getattr(settings, setting), folder / name)
        setattr(settings, setting, folder / name)
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.BLIND_INDEX_KEY = ""
    settings.AUDIT_SIGNER = "file"
    settings.GENERATE_MISSING_KEYS = True
    crypto.reset_key_cache()
    yield folder
    crypto.reset_key_cache()


def _refusal() -> str:
    crypto.reset_key_cache()
    with pytest.raises(KeysNotUsable) as refused:
        check_keys_at_start()
    return str(refused.value)


@pytest.mark.django_db
def test_a_fresh_database_starts_and_writes_the_canary(settings, tmp_path):
    folder = tmp_path / "new-keys"
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY_FILE = folder / "field-encryption.key"
    settings.BLIND_INDEX_KEY = ""
    settings.BLIND_INDEX_KEY_FILE = folder / "blind-index.key"
    settings.AUDIT_SIGNING_KEY_FILE = folder / "audit-signing.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = folder / "audit-signing.pub.pem"
    settings.GENERATE_MISSING_KEYS = True
    crypto.reset_key_cache()
    try:
        assert not KeyCanary.objects.exists()
        check_keys_at_start()
        assert set(KeyCanary.objects.values_list("kind", flat=True)) == ALL_KINDS
        assert sorted(p.name for p in folder.iterdir()) == [
            "audit-signing.pem",
            "audit-signing.pub.pem",
            "blind-index.key",
            "field-encryption.key",
        ], "a fresh embedded database gets its keys on its first start"
        check_keys_at_start()  # and starts again with them
        assert KeyCanary.objects.count() == len(ALL_KINDS)
    finally:
        crypto.reset_key_cache()


@pytest.mark.django_db
def test_an_existing_database_gets_its_canary_on_its_next_start(world: World, keys):
    world.new_application("500")
    assert not KeyCanary.objects.exists()
    check_keys_at_start()
    field = KeyCanary.objects.get(kind=KeyCanaryKind.FIELD_ENCRYPTION)
    assert field.wrapped_marker and not field.digest
    assert KeyCanary.objects.get(kind=KeyCanaryKind.BLIND_INDEX).digest
    assert KeyCanary.objects.get(kind=KeyCanaryKind.AUDIT_SIGNING).digest


@pytest.mark.django_db
def test_no_canary_is_made_with_a_key_that_does_not_open_the_stored_data(
    world: World, keys, settings
):
    """A canary made with a wrong key would make the wrong key look right for good."""
    world.new_application("500")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    message = _refusal()
    assert "cannot open the stored data keys" in message
    assert not KeyCanary.objects.exists()


@pytest.mark.django_db
def test_a_restore_without_its_keys_refuses_to_start_and_makes_no_key(world: World, keys):
    person = world.new_application("500").beneficiary
    check_keys_at_start()
    for key_file in list(keys.iterdir()):
        key_file.unlink()

    message = _refusal()

    for kind, path in (
        ("field-encryption key", settings.FIELD_ENCRYPTION_KEY_FILE),
        ("blind-index key", settings.BLIND_INDEX_KEY_FILE),
        ("audit signing key", settings.AUDIT_SIGNING_KEY_FILE),
    ):
        assert f"The {kind} is missing: it was expected in the key file {path}" in message
    assert "Restore it from your key backup" in message
    assert list(keys.iterdir()) == [], "no key was generated in place of a lost one"
    # The people are still the old key's: nothing was written under another one.
    assert Beneficiary.objects.get(pk=person.pk).wrapped_key == person.wrapped_key


@pytest.mark.django_db
def test_a_wrong_field_encryption_key_refuses_to_start(world: World, keys, settings):
    world.new_application("500")
    check_keys_at_start()
    staging_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [staging_key]

    message = _refusal()

    assert "The field-encryption key in FIELD_ENCRYPTION_KEYS is not the one" in message
    assert "blind-index" not in message, "only the wrong key is named"
    assert staging_key not in message


@pytest.mark.django_db
def test_a_wrong_blind_index_key_refuses_to_start(world: World, keys, settings):
    world.new_application("500")
    check_keys_at_start()
    settings.BLIND_INDEX_KEY = "another-installation-s-blind-index-key-0123"

    message = _refusal()

    assert "The blind-index key in BLIND_INDEX_KEY is not the one" in message
    assert "rebuild_blind_index" in message
    assert settings.BLIND_INDEX_KEY not in message


@pytest.mark.django_db
def test_a_wrong_audit_signing_key_refuses_to_start(world: World, keys, settings):
    check_keys_at_start()
    (keys / "audit-signing.pem").unlink()
    (keys / "audit-signing.pub.pem").unlink()
    from audit.signing import _generate

    _generate(  # a pair made elsewhere (another installation's)
        keys / "audit-signing.pem", keys / "audit-signing.pub.pem"
    )

    message = _refusal()

    assert f"The audit signing key in the key file {keys / 'audit-signing.pem'}" in message
    assert "is not the one this database's data was made with" in message


@pytest.mark.django_db
def test_rotating_the_field_encryption_keys_still_starts(world: World, keys, settings):
    person = world.new_application("500").beneficiary
    old = (keys / "field-encryption.key").read_text().strip()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    crypto.reset_key_cache()
    check_keys_at_start()

    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    crypto.reset_key_cache()
    check_keys_at_start()  # the new key first, the old one after it
    call_command("rotate_keys", verbosity=0)
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key removed
    crypto.reset_key_cache()
    check_keys_at_start()

    canary = KeyCanary.objects.get(kind=KeyCanaryKind.FIELD_ENCRYPTION)
    assert Fernet(new.encode()).decrypt(canary.wrapped_marker.encode()), "re-wrapped"
    assert Beneficiary.objects.get(pk=person.pk).personal_data["name"]


@pytest.mark.django_db
def test_replacing_the_blind_index_key_on_purpose_starts_after_rebuild_blind_index(
    world: World, keys, settings
):
    world.new_application("500")
    check_keys_at_start()
    settings.BLIND_INDEX_KEY = "a-new-blind-index-key-chosen-on-purpose-01"
    crypto.reset_key_cache()
    _refusal()
    call_command("rebuild_blind_index", verbosity=0)
    check_keys_at_start()


@pytest.mark.django_db
def test_no_key_is_generated_while_its_canary_exists_even_without_other_data(keys, settings):
    """The canary is data made with the key: the data probes count it."""
    check_keys_at_start()
    assert not Beneficiary.objects.exists()
    for key_file in list(keys.iterdir()):
        key_file.unlink()
    crypto.reset_key_cache()

    with pytest.raises(ImproperlyConfigured, match=r"field-encryption\.key"):
        crypto.master_cipher()
    with pytest.raises(ImproperlyConfigured, match=r"blind-index\.key"):
        crypto.blind_index("198112189876")
    with pytest.raises(ImproperlyConfigured, match=r"audit-signing\.pem"):
        signing_key()
    assert list(keys.iterdir()) == []


@pytest.mark.django_db
def test_commands_keep_working_without_the_keys(world: World, keys):
    """migrate, check_production and the like are how an operator repairs what start-up
    refuses; only server processes check the canaries."""
    check_keys_at_start()
    for key_file in list(keys.iterdir()):
        key_file.unlink()
    crypto.reset_key_cache()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("showmigrations", "fund", verbosity=0)


# --- real server processes ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _embedded_env(var: Path, database: Path) -> dict[str, str]:
    """`make run`'s environment: nothing set but the folders (as a fresh clone has)."""
    from tests.config.test_make_run_fresh_clone import UNSET

    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update({"FUNDFLOW_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{database}"})
    return env


def _run(env: dict[str, str], *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *command],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def restored_without_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """An embedded database that has started once (canaries written), its key folder lost."""
    root = tmp_path_factory.mktemp("restore")
    var, database = root / "var", root / "db.sqlite3"
    env = _embedded_env(var, database)
    for step in (
        ("manage.py", "migrate", "--noinput"),
        ("manage.py", "shell", "-c", "import config.wsgi"),  # a first start: the canaries
    ):
        done = _run(env, *step)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    shutil.rmtree(var / "keys")
    return env, var / "keys"


def test_runserver_on_a_restore_without_its_keys_exits_with_the_message(restored_without_keys):
    """`make run`: runserver with its autoreloader exits (it does not wait for a file change)."""
    env, keys = restored_without_keys
    done = _run(env, "manage.py", "runserver", f"127.0.0.1:{_free_port()}", timeout=90)
    assert done.returncode != 0
    assert f"The field-encryption key is missing: it was expected in the key file {keys}" in (
        done.stderr
    )
    assert "Restore it from your key backup" in done.stderr
    assert not keys.exists() or not any(keys.iterdir()), "no key file was created"


def test_gunicorn_on_a_restore_without_its_keys_exits_with_the_message(restored_without_keys):
    env, keys = restored_without_keys
    done = _run(
        env,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{_free_port()}",
        "--workers",
        "1",
        timeout=90,
    )
    assert done.returncode != 0
    assert "The blind-index key is missing" in done.stderr
    assert "Worker failed to boot" in done.stderr
    assert not keys.exists() or not any(keys.iterdir()), "no key file was created"


def test_a_celery_worker_on_a_restore_without_its_keys_exits_with_the_message(
    restored_without_keys,
):
    env, keys = restored_without_keys
    worker_env = {
        **env,
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": "cache+memory://",
    }
    done = _run(worker_env, "-m", "celery", "-A", "config", "worker", "--pool=solo", timeout=90)
    assert done.returncode != 0
    assert "The audit signing key is missing" in done.stdout + done.stderr
    assert not keys.exists() or not any(keys.iterdir()), "no key file was created"
