"""Production settings pass Django's deployment checks and refuse to start without secrets."""

import os
import subprocess
import sys

from cryptography.fernet import Fernet
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 20 + "-production-like-secret-" + "q" * 30,
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BLIND_INDEX_KEY": "blind-index-key-for-the-deploy-check",
    "ALLOWED_HOSTS": "fundflow.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
}


def _manage(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    env.update(PRODUCTION_ENV)
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _manage("check", FIELD_ENCRYPTION_KEYS="")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
