"""Production settings pass Django's deployment checks and refuse to start without secrets."""

import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 20 + "-production-like-secret-" + "q" * 30,
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BLIND_INDEX_KEY": "blind-index-key-for-the-deploy-check",
    "ALLOWED_HOSTS": "fundflow.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "ADMINS": "Drift <drift@stiftelsen.example.se>",
    "AUDIT_LOG_ORIGIN": "stiftelsen.example.se/fundflow-audit",
    "AUDIT_CHECKPOINT_RECIPIENTS": "revisor@example.se",
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


@pytest.mark.evidence("security")
def test_check_deploy_is_clean_with_production_settings(evidence):
    """`manage.py check --deploy --fail-level WARNING` is clean with production settings."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    evidence.row(
        tried="manage.py check --deploy --fail-level WARNING (DEBUG=0, production environment)",
        outcome=f"exit {result.returncode}: {result.stdout.strip()}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


#: Run inside ``manage.py shell`` with the production environment: the settings that matter
#: and what a request over HTTPS (and one over plain HTTP) really gets back.
PROBE = """
import json
from django.conf import settings as s
from django.test import Client, override_settings
names = [
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_AGE", "SESSION_EXPIRE_AT_BROWSER_CLOSE", "SESSION_SAVE_EVERY_REQUEST",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
    "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
]
client = Client(HTTP_HOST="fundflow.example.org")
# Production serves collected static files (collectstatic); nothing is collected here.
storages = {**s.STORAGES, "staticfiles": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
with override_settings(STORAGES=storages):
    secure = client.get("/login/", secure=True)
    plain = client.get("/login/")
cookie = secure.cookies[s.CSRF_COOKIE_NAME]
print(json.dumps({
    "settings": {name: getattr(s, name) for name in names},
    "https": {
        "status": secure.status_code,
        "csrf_cookie": cookie.output(header="").replace(cookie.value, "<token>").strip(),
        "hsts": secure.get("Strict-Transport-Security"),
    },
    "http": {"status": plain.status_code, "location": plain.get("Location")},
}))
"""


@pytest.mark.evidence("security")
def test_production_cookies_and_transport(evidence):
    """Production: Secure, HttpOnly, SameSite cookies, 30 idle minutes, HTTPS only with HSTS."""
    result = _manage("shell", "--no-imports", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    for name, value in probe["settings"].items():
        evidence.row(tried=name, outcome=str(value))
    evidence.row(tried="GET https://…/login/: CSRF cookie", outcome=probe["https"]["csrf_cookie"])
    evidence.row(tried="GET https://…/login/: HSTS header", outcome=probe["https"]["hsts"])
    evidence.row(
        tried="GET http://…/login/",
        outcome=f"{probe['http']['status']} to {probe['http']['location']}",
    )
    assert probe["settings"] == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": 1800,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
    }
    assert probe["https"]["status"] == 200
    cookie = probe["https"]["csrf_cookie"]
    assert "Secure" in cookie and "SameSite=Lax" in cookie
    assert probe["https"]["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["http"]["status"] == 301
    assert probe["http"]["location"] == "https://fundflow.example.org/login/"


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _manage("check", FIELD_ENCRYPTION_KEYS="")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
