"""What `make run-prod` refuses (``manage.py check_production``), each with what to do.

The embedded demo fails open by design (DEBUG, generated keys, demo users with a public
password and one-time code secret); production must not start with any of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

from config.file_modes import SHARED_BITS, mode_of, sqlite_file


def production_problems() -> list[str]:
    """Every reason not to start production now; empty when it is safe to start."""
    problems: list[str] = []
    if settings.DEBUG:
        problems.append(
            "DEBUG is on: error pages would show settings and personal data, and the public "
            "development SECRET_KEY applies. Set DEBUG=0 (see README, Configuration)."
        )
    if settings.GENERATE_MISSING_KEYS:
        problems.append(
            "GENERATE_MISSING_KEYS is on: production never generates keys. Set "
            "GENERATE_MISSING_KEYS=0 and provide every key."
        )
    problems += key_problems()
    problems += database_file_problems(settings.DATABASES["default"])
    problems += demo_problems()
    return problems


def _file_problem(kind: str, path: Path) -> list[str]:
    mode = mode_of(path)
    if not mode & SHARED_BITS:
        return []
    what = "read" if mode & 0o044 else "changed"
    return [f"The {kind} {path} can be {what} by others (mode {mode:04o}): chmod 600 it."]


def key_problems() -> list[str]:
    """The field-encryption, blind-index and audit signing keys: present, private, distinct."""
    problems: list[str] = []
    if settings.FIELD_ENCRYPTION_KEYS:
        for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
            try:
                Fernet(key)
            except ValueError:
                problems.append(
                    f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe "
                    "base64-encoded bytes)."
                )
    else:
        path = Path(settings.FIELD_ENCRYPTION_KEY_FILE)
        if path.exists():
            problems += _file_problem("key file", path)
        else:
            problems.append(
                f"No field-encryption key: set FIELD_ENCRYPTION_KEYS, or restore the key file "
                f"{path} from your key backup. Without it no person can be read."
            )
    if settings.BLIND_INDEX_KEY:
        if settings.BLIND_INDEX_KEY == settings.SECRET_KEY:
            problems.append(
                "BLIND_INDEX_KEY must not be the SECRET_KEY: give the index a key of its own "
                "and run `manage.py rebuild_blind_index`."
            )
    else:
        path = Path(settings.BLIND_INDEX_KEY_FILE)
        if path.exists():
            problems += _file_problem("key file", path)
        else:
            problems.append(
                f"No blind-index key: set BLIND_INDEX_KEY, or restore the key file {path} "
                "from your key backup. Without it duplicates and yearly limits per person "
                "are not found."
            )
    signing = Path(settings.AUDIT_SIGNING_KEY_FILE)
    if signing.exists():
        problems += _file_problem("key file", signing)
    else:
        problems.append(
            f"No audit signing key at {signing} (AUDIT_SIGNING_KEY_FILE): create an Ed25519 "
            "key pair there (PEM, PKCS#8, mode 0600) and its public key at "
            "AUDIT_PUBLIC_KEY_FILE."
        )
    return problems


def database_file_problems(database: Mapping[str, Any]) -> list[str]:
    """A SQLite database file others may read (a database server has no file here)."""
    path = sqlite_file(database)
    if path is None or not path.exists():
        return []
    return _file_problem("database file", path)


def demo_problems() -> list[str]:
    """The users `seed_demo` creates and the demo one-time code secret, known to everyone."""
    tables = set(connection.introspection.table_names())
    problems: list[str] = []
    if "auth_user" in tables:
        from django.contrib.auth import get_user_model

        from fund.demo import DEMO_PASSWORD, DEMO_USERS

        present = sorted(
            get_user_model()
            .objects.filter(username__in=DEMO_USERS)
            .values_list("username", flat=True)
        )
        if present:
            problems.append(
                f"The demo users exist ({', '.join(present)}); their password "
                f"{DEMO_PASSWORD!r} is public. Delete them: `seed_demo` is for the demo only."
            )
    if "otp_totp_totpdevice" in tables:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from web.demo import DEMO_TOTP_KEY_HEX

        devices = TOTPDevice.objects.filter(key=DEMO_TOTP_KEY_HEX).count()
        if devices:
            problems.append(
                f"{devices} one-time code devices use the demo one-time code secret, which is "
                "public: delete them and have each person enrol their own authenticator app."
            )
    return problems
