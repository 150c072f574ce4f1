"""`make run-prod` refuses unsafe settings; `seed_demo` runs in the embedded demo mode only
(issue #14, defect 4)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.signing import signing_key
from operations.production_checks import database_file_problems, production_problems
from tests.config.test_deploy_settings import _manage
from tests.fixtures import UserFactory


@pytest.fixture
def production(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Production-like settings in-process: DEBUG off, keys from the environment, 0600 files.

    The suite's PostgreSQL connection is a superuser, which production refuses: the database
    role's check is left out here and tested with a role of its own in
    tests/operations/test_database_grants.py.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        monkeypatch.setattr("operations.production_checks.database_role_grant_problems", lambda: [])
    settings.DEBUG = False
    settings.EMBEDDED_MODE = False
    settings.GENERATE_MISSING_KEYS = False
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.BLIND_INDEX_KEY = "blind-index-key-for-the-production-check"
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit-signing.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "audit-signing.pub.pem"
    settings.GENERATE_MISSING_KEYS = True
    signing_key()  # created 0600
    settings.GENERATE_MISSING_KEYS = False
    settings.ADMINS = [("Drift", "drift@stiftelsen.example.se")]
    settings.AUDIT_LOG_ORIGIN = "stiftelsen.example.se/fundflow-audit"
    settings.AUDIT_CHECKPOINT_RECIPIENTS = ["revisor@example.se"]
    return tmp_path


def _problems() -> str:
    return "\n".join(production_problems())


@pytest.mark.django_db
def test_production_check_passes_with_production_settings(production):
    assert production_problems() == []


@pytest.mark.django_db
def test_run_prod_refuses_no_admins_the_default_log_name_and_no_checkpoint_recipients(
    production, settings
):
    settings.ADMINS = []
    settings.AUDIT_LOG_ORIGIN = "fundflow.local/audit"
    settings.AUDIT_CHECKPOINT_RECIPIENTS = []
    problems = _problems()
    assert "ADMINS is empty" in problems
    assert "AUDIT_LOG_ORIGIN is the embedded default" in problems
    assert "AUDIT_CHECKPOINT_RECIPIENTS is empty" in problems


@pytest.mark.django_db
def test_admins_come_from_the_environment(settings):
    from config.settings import _addresses

    assert _addresses("Drift <drift@example.se>, revisor@example.se") == [
        ("Drift", "drift@example.se"),
        ("revisor@example.se", "revisor@example.se"),
    ]


@pytest.mark.django_db
def test_run_prod_refuses_debug(production, settings):
    settings.DEBUG = True
    assert "DEBUG is on" in _problems()


@pytest.mark.django_db
def test_run_prod_refuses_a_missing_field_encryption_key(production, settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY_FILE = production / "absent-field.key"
    problems = _problems()
    assert "field-encryption key" in problems and "absent-field.key" in problems


@pytest.mark.django_db
def test_run_prod_refuses_a_missing_blind_index_key(production, settings):
    settings.BLIND_INDEX_KEY = ""
    settings.BLIND_INDEX_KEY_FILE = production / "absent-index.key"
    problems = _problems()
    assert "BLIND_INDEX_KEY" in problems and "absent-index.key" in problems


@pytest.mark.django_db
def test_run_prod_refuses_a_blind_index_key_equal_to_the_secret_key(production, settings):
    settings.BLIND_INDEX_KEY = settings.SECRET_KEY
    assert "BLIND_INDEX_KEY must not be the SECRET_KEY" in _problems()


@pytest.mark.django_db
def test_run_prod_refuses_a_missing_audit_signing_key(production, settings):
    settings.AUDIT_SIGNING_KEY_FILE = production / "absent.pem"
    assert "audit signing key" in _problems() and "absent.pem" in _problems()


@pytest.mark.django_db
def test_run_prod_refuses_the_demo_users(production):
    UserFactory(username="admin")
    UserFactory(username="treasurer2")
    problems = _problems()
    assert "demo users" in problems
    assert "admin" in problems and "treasurer2" in problems


@pytest.mark.django_db
def test_run_prod_refuses_the_demo_one_time_code_secret(production):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from web.demo import DEMO_TOTP_KEY_HEX

    TOTPDevice.objects.create(user=UserFactory(username="real-admin"), key=DEMO_TOTP_KEY_HEX)
    assert "demo one-time code secret" in _problems()


@pytest.mark.django_db
def test_run_prod_refuses_group_or_world_readable_key_files(production, settings):
    key_file = production / "field.key"
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o640)
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY_FILE = key_file
    settings.AUDIT_SIGNING_KEY_FILE.chmod(0o644)
    problems = _problems()
    assert f"{key_file} can be read by others (mode 0640)" in problems
    assert f"{settings.AUDIT_SIGNING_KEY_FILE} can be read by others (mode 0644)" in problems


def test_run_prod_refuses_a_world_readable_database_file(tmp_path):
    database = tmp_path / "db.sqlite3"
    database.touch()
    database.chmod(0o644)
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}
    assert database_file_problems(sqlite) == [
        f"The database file {database} can be read by others (mode 0644): chmod 600 it."
    ]
    database.chmod(0o600)
    assert database_file_problems(sqlite) == []
    server = {"ENGINE": "django.db.backends.postgresql", "NAME": "fundflow"}
    assert database_file_problems(server) == [], "a database server has no file to check"


# --- the command, as `make run-prod` runs it ------------------------------------------------


def _signing_key_env(tmp_path: Path) -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = tmp_path / "audit-signing.pem"
    key = Ed25519PrivateKey.generate()
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    pem.chmod(0o600)
    return {
        "AUDIT_SIGNING_KEY_FILE": str(pem),
        "AUDIT_PUBLIC_KEY_FILE": str(tmp_path / "audit-signing.pub.pem"),
    }


def test_check_production_command_passes_with_production_settings(tmp_path):
    result = _manage("check_production", **_signing_key_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "safe to start" in result.stdout


def test_check_production_command_refuses_debug_and_a_missing_audit_key(tmp_path):
    result = _manage(
        "check_production", DEBUG="1", AUDIT_SIGNING_KEY_FILE=str(tmp_path / "none.pem")
    )
    assert result.returncode != 0
    assert "DEBUG is on" in result.stderr
    assert "none.pem" in result.stderr


def test_make_run_prod_runs_check_production_before_anything_starts():
    result = subprocess.run(
        ["make", "-n", "run-prod"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stdout.splitlines()
    position = {
        name: next(i for i, line in enumerate(lines) if name in line)
        for name in ("check_production", "check --deploy", "gunicorn")
    }
    assert position["check_production"] < position["check --deploy"] < position["gunicorn"]


# --- seed_demo only in the demo ------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_refuses_outside_the_embedded_demo_mode(settings):
    from django.contrib.auth import get_user_model

    settings.EMBEDDED_MODE = False
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", verbosity=0)
    assert "DEBUG=1" in str(refused.value)
    assert not get_user_model().objects.filter(username="admin").exists()


def test_seed_demo_refuses_with_production_settings():
    result = _manage("seed_demo")
    assert result.returncode != 0
    assert "only in the embedded demo mode" in result.stderr
