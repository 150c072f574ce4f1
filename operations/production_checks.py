"""What `make run-prod` refuses (``manage.py check_production``), each with what to do.

The embedded demo fails open by design (DEBUG, generated keys, demo users with a public
password and one-time code secret); production must not start with any of it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.views.decorators.debug import sensitive_variables

from core.file_modes import SHARED_BITS, mode_of, sqlite_file
from operations.configured_keys import blind_index_key, field_encryption_keys

#: The fewest characters a BLIND_INDEX_KEY may have: the index of a personnummer (about a
#: thousand candidates per birth date) is only as hard to reverse as this key is to guess.
BLIND_INDEX_KEY_MIN_LENGTH = 32


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
    problems += stored_key_problems()
    problems += database_file_problems(settings.DATABASES["default"])
    problems += database_role_grant_problems()
    problems += payout_and_export_problems()
    problems += audit_trail_problems()
    problems += demo_problems()
    problems += chart_mapping_problems()
    return problems


def database_role_grant_problems() -> list[str]:
    """The role production runs as: no schema changes, no rewriting history, every table."""
    if connection.vendor != "postgresql":
        return []  # the embedded SQLite has no roles
    from operations.database_grants import database_role_problems

    return database_role_problems(connection)


def chart_mapping_problems() -> list[str]:
    """The chart mapping (LEDGER_ACCOUNTS) names accounts the chart has, of the right type."""
    from accounting.chart import chart_problems

    if "accounting_account" not in _tables():
        return []
    return [
        f"Chart of accounts: {problem} (see docs/accounting.md)." for problem in chart_problems()
    ]


#: The embedded default name of the log; a production log needs a name of its own.
DEFAULT_LOG_ORIGIN = "fundflow.local/audit"


def audit_trail_problems() -> list[str]:
    """Who hears of a broken chain, and where checkpoints go, must be set before start."""
    problems = []
    if not settings.ADMINS:
        problems.append(
            "ADMINS is empty: nobody would be told when the audit chain breaks. Set ADMINS="
            "'Name <address>, …' (README, Configuration)."
        )
    if settings.AUDIT_LOG_ORIGIN == DEFAULT_LOG_ORIGIN:
        problems.append(
            "AUDIT_LOG_ORIGIN is the embedded default: give the log the foundation's own name "
            "(e.g. stiftelsen.example.se/fundflow-audit) before the first checkpoint; it is "
            "in every checkpoint the auditors keep."
        )
    if not settings.AUDIT_CHECKPOINT_RECIPIENTS:
        problems.append(
            "AUDIT_CHECKPOINT_RECIPIENTS is empty: checkpoints would leave the server only when "
            "an auditor downloads them. Set it to the auditors' addresses."
        )
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
        problems += _key_file_problems(
            path,
            f"No field-encryption key: set FIELD_ENCRYPTION_KEYS, or restore the key file "
            f"{path} from your key backup. Without it no person can be read.",
        )
    if settings.BLIND_INDEX_KEY:
        problems += _blind_index_key_strength(str(settings.BLIND_INDEX_KEY))
    else:
        path = Path(settings.BLIND_INDEX_KEY_FILE)
        problems += _key_file_problems(
            path,
            f"No blind-index key: set BLIND_INDEX_KEY, or restore the key file {path} "
            "from your key backup. Without it duplicates and yearly limits per person "
            "are not found.",
        )
    signing = Path(settings.AUDIT_SIGNING_KEY_FILE)
    if str(settings.AUDIT_SIGNER).startswith("socket:"):
        # The key is with the signer process, out of this user's reach; only its public key
        # is here, to verify with.
        public = Path(settings.AUDIT_PUBLIC_KEY_FILE)
        if not public.exists():
            problems.append(
                f"No audit public key at {public} (AUDIT_PUBLIC_KEY_FILE): copy the signer's "
                "public key there."
            )
        return problems
    problems += _key_file_problems(
        signing,
        f"No audit signing key at {signing} (AUDIT_SIGNING_KEY_FILE): create an Ed25519 "
        "key pair there (PEM, PKCS#8, mode 0600) and its public key at "
        "AUDIT_PUBLIC_KEY_FILE.",
    )
    return problems


def _key_file_problems(path: Path, missing: str) -> list[str]:
    """A key file must exist and be its owner's only."""
    return _file_problem("key file", path) if path.exists() else [missing]


@sensitive_variables()
def _blind_index_key_strength(key: str) -> list[str]:
    """A guessable index key gives every stored index back as a personnummer."""
    remedy = "and run `manage.py rebuild_blind_index`."
    if key == settings.SECRET_KEY:
        return [
            f"BLIND_INDEX_KEY must not be the SECRET_KEY: give the index a key of its own {remedy}"
        ]
    if key in settings.FIELD_ENCRYPTION_KEYS:
        return [
            "BLIND_INDEX_KEY must not be a field-encryption key: give the index a key of its "
            f"own {remedy}"
        ]
    if len(key) < BLIND_INDEX_KEY_MIN_LENGTH:
        return [
            f"BLIND_INDEX_KEY is too short ({len(key)} characters): use at least "
            f'{BLIND_INDEX_KEY_MIN_LENGTH} random characters (e.g. `python -c "import secrets; '
            f'print(secrets.token_urlsafe(32))"`) {remedy}'
        ]
    return []


def _key_source(setting: str, file_setting: str) -> str:
    """Where a key comes from, for the message: the setting, or the file named."""
    if getattr(settings, setting):
        return setting
    return f"the key file {getattr(settings, file_setting)} ({file_setting})"


@sensitive_variables()
def _configured_master_keys() -> MultiFernet | None:
    """The master keys as configured now (not the process's cached ones); None if unusable."""
    keys = field_encryption_keys()
    if keys.missing:
        return None
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys.values])
    except ValueError:
        return None  # reported by key_problems


@sensitive_variables()
def _configured_index_key() -> bytes | None:
    keys = blind_index_key()
    return None if keys.missing else keys.values[0].encode()


def stored_key_problems() -> list[str]:
    """Keys that are present but not the ones the stored data was made with.

    A wrong key (staging's, an old backup's) starts as happily as the right one; then every
    person fails to decrypt, or duplicates and yearly limits per person silently stop being
    found. Every wrapped data key and master-wrapped secret is tried (a rotation interrupted
    and its old key removed leaves the first rows readable and the rest not); one
    personnummer index is recomputed. No key or value is ever shown.
    """
    master = _configured_master_keys()
    if master is None:
        return []
    problems = _wrapped_key_problems(master)
    if not problems:
        problems += _blind_index_problems(master)
    return problems


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


#: How many unopened rows a message names; the count covers them all.
NAMED_ROWS = 10


def _reference_field(model: Any) -> str:
    """The column that names a row without personal data (a reference, a message id)."""
    names = {field.name for field in model._meta.concrete_fields}
    return next((name for name in ("reference", "message_id") if name in names), "pk")


@sensitive_variables()
def _unopened(master: MultiFernet, label: str, field: str) -> tuple[int, int, list[str]]:
    """(rows tried, rows not opened, references of the first ones not opened) of a column.

    Every row is tried: one Fernet decryption (HMAC-SHA256 and AES of ~100 bytes) costs some
    10-20 microseconds, so even 100,000 people cost about two seconds at each start of
    production, which is cheap against starting on data that cannot be read.
    """
    model = apps.get_model(label)
    rows = (
        model._default_manager.exclude(**{field: ""})
        .order_by("pk")
        .values_list(field, _reference_field(model))
    )
    tried = failed = 0
    named: list[str] = []
    for wrapped, reference in rows.iterator(chunk_size=2000):
        tried += 1
        try:
            master.decrypt(str(wrapped).encode("ascii"))
        except InvalidToken:
            failed += 1
            if len(named) < NAMED_ROWS:
                named.append(str(reference))
    return tried, failed, named


@sensitive_variables()
def _wrapped_key_problems(master: MultiFernet) -> list[str]:
    from fund.token_fields import KEY_HOLDERS, MASTER_WRAPPED

    tables = _tables()
    unopened: list[str] = []
    columns = [(h.model, h.field) for h in KEY_HOLDERS] + [
        (w.model, w.field) for w in MASTER_WRAPPED
    ]
    for label, field in columns:
        if apps.get_model(label)._meta.db_table not in tables:
            continue
        tried, failed, named = _unopened(master, label, field)
        if failed:
            more = ", …" if failed > len(named) else ""
            unopened.append(f"{label}: {failed} of {tried} ({', '.join(named)}{more})")
    if not unopened:
        return []
    source = _key_source("FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_KEY_FILE")
    return [
        f"The configured FIELD_ENCRYPTION_KEYS cannot open the stored data keys "
        f"({'; '.join(unopened)}; key from {source}) — wrong key? Or a rotation not finished "
        "before the old key was removed? Those rows would fail to decrypt. Set the key the "
        "data was encrypted with (restore it from your key backup); while rotating, list the "
        "new key first and the old one after it, and run `manage.py rotate_keys` to the end."
    ]


@sensitive_variables()
def _blind_index_problems(master: MultiFernet) -> list[str]:
    """Recompute one stored personnummer index with the configured key and compare."""
    import json

    from stdnum.se import personnummer

    from core.crypto import twelve_digits
    from fund.models import Beneficiary

    index_key = _configured_index_key()
    if index_key is None or Beneficiary._meta.db_table not in _tables():
        return []
    person = (
        Beneficiary.objects.filter(erased_at__isnull=True)
        .exclude(personnummer_index="")
        .exclude(wrapped_key="")
        .exclude(encrypted_personal_data="")
        .order_by("pk")
        .first()
    )
    if person is None:
        return []
    try:
        data_key = master.decrypt(person.wrapped_key.encode("ascii"))
        plain = Fernet(data_key).decrypt(person.encrypted_personal_data.encode("ascii"))
    except InvalidToken:
        return []  # a key holder that cannot be opened is reported on its own
    number = str(json.loads(plain).get("personnummer", ""))
    if not number or not personnummer.is_valid(number):
        return []
    # As core.crypto.blind_index computes it; twelve digits need no further normalising.
    index = hmac.new(index_key, twelve_digits(number).encode(), hashlib.sha256).hexdigest()
    if hmac.compare_digest(index, person.personnummer_index):
        return []
    source = _key_source("BLIND_INDEX_KEY", "BLIND_INDEX_KEY_FILE")
    return [
        f"BLIND_INDEX_KEY does not match the stored personnummer indexes (key from {source}): "
        "duplicates and the yearly limit per person would silently not be found. Set the key "
        "the indexes were made with (from your key backup), or, if the key was replaced on "
        "purpose, run `manage.py rebuild_blind_index` to recompute every index under it."
    ]


def _shared_folder_problems(kind: str, folder: Path) -> list[str]:
    """A folder of bank files or exports, and every file in it, owner-only."""
    if not folder.exists():
        return []
    problems: list[str] = []
    mode = mode_of(folder)
    if mode & SHARED_BITS:
        problems.append(
            f"The {kind} folder {folder} can be entered or read by others (mode {mode:04o}): "
            "chmod 700 it."
        )
    shared = sorted(
        path for path in folder.rglob("*") if not path.is_symlink() and mode_of(path) & SHARED_BITS
    )
    files = [path for path in shared if not path.is_dir()]
    folders = [path for path in shared if path.is_dir()]
    if folders:
        problems.append(
            f"{len(folders)} folders in the {kind} folder can be entered by others "
            f"({', '.join(map(str, folders[:5]))}): chmod 700 them."
        )
    if files:
        problems.append(
            f"{len(files)} files in the {kind} folder can be read by others "
            f"({', '.join(map(str, files[:5]))}): chmod 600 them."
        )
    return problems


def payout_and_export_problems() -> list[str]:
    """Bank files name payees' accounts (a personkonto is a personnummer); exports carry
    the ledger. Production is checked, not tightened (core/file_modes.py)."""
    return _shared_folder_problems("payout", Path(settings.PAYOUT_FILES_DIR)) + (
        _shared_folder_problems("export", Path(settings.EXPORT_FILES_DIR))
    )


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

        from demo.seed import DEMO_PASSWORD, DEMO_USERS

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
    if "auth_user" in tables and "otp_totp_totpdevice" in tables:
        problems += demo_password_problems()
    return problems


def demo_password_problems() -> list[str]:
    """Active users whose password is the public demo password, under any username.

    Only superusers and users without a confirmed one-time code device are tried: each
    check_password costs a full PBKDF2 run (about a second per thousand users would be the
    least of it), and a user with a confirmed device of their own cannot sign in with the
    password alone. Staff whose device has the demo TOTP secret are caught by the device
    check above.
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from demo.seed import DEMO_PASSWORD, DEMO_USERS

    candidates = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | ~Q(totpdevice__confirmed=True))
        .exclude(username__in=DEMO_USERS)  # reported by name already
        .distinct()
        .order_by("username")
    )
    weak = [user.get_username() for user in candidates if user.check_password(DEMO_PASSWORD)]
    if not weak:
        return []
    return [
        f"{len(weak)} active users have the public demo password ({', '.join(weak)}): set "
        "each a password of their own (`manage.py changepassword USERNAME`) or deactivate them."
    ]
