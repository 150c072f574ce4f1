"""A server never starts with missing or wrong keys (``fund.KeyCanary``).

A database restored without its keys used to start, generate new keys, accept new cases
under them and answer 500 on every old case, after which it held two keys' data. Each key
leaves a canary in the database (data made with it); every server process (the WSGI
application, ``runserver``, the Celery worker) checks the configured keys against the
canaries before it serves and refuses to start, naming the key and where it was expected.
A database without canaries gets them on its next start, once the configured keys are shown
to open the stored data (:func:`operations.production_checks.stored_key_problems`).

Commands (migrate, backup, rotate_keys, rebuild_blind_index, check_production) do not run
this check: they are how an operator repairs what it refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.views.decorators.debug import sensitive_variables

from core.database_incidents import first_line, kind_of, unavailable_error
from fund.key_safety import CANARY_MARKER, blind_index_canary
from fund.models import KeyCanary, KeyCanaryKind
from operations.configured_keys import ConfiguredKeys, blind_index_key, field_encryption_keys

logger = logging.getLogger("fundflow.operations")

RESTORE = "Restore it from your key backup"


class KeysNotUsable(ImproperlyConfigured):
    """The configured keys are missing or are not the ones the database's data was made with."""


class KeysNotChecked(Exception):
    """The database did not answer (lost, or its disk failed), so the keys could not be
    compared with it yet: no reason to refuse, but no reason to trust the keys either."""


@dataclass(frozen=True)
class ConfiguredKey:
    """A key as configured now (not the process's cached copy), and where it comes from."""

    source: str  # the setting, or the file and its setting: for the message, never the key
    value: bytes | None  # None: not there


def _as_configured_key(keys: ConfiguredKeys) -> ConfiguredKey:
    if keys.from_environment:
        return ConfiguredKey(keys.setting, ",".join(keys.values).encode())
    where = f"the key file {keys.path} ({keys.file_setting}, or set {keys.setting})"
    return ConfiguredKey(where, None if keys.missing else keys.values[0].encode())


@sensitive_variables()
def configured_field_keys() -> ConfiguredKey:
    return _as_configured_key(field_encryption_keys())


@sensitive_variables()
def configured_index_key() -> ConfiguredKey:
    return _as_configured_key(blind_index_key())


def _uses_signer_process() -> bool:
    return str(settings.AUDIT_SIGNER).startswith("socket:")


def configured_signing_fingerprint() -> tuple[str, str | None]:
    """(where the audit key was expected, its public key's fingerprint or None if missing).

    With a signer process only its public key is here; with a key file the private key
    itself must be there (checkpoints are signed with it).
    """
    from audit.signing import fingerprint, load_public_key

    if _uses_signer_process():
        public = Path(settings.AUDIT_PUBLIC_KEY_FILE)
        where = f"the public key file {public} (AUDIT_PUBLIC_KEY_FILE)"
        return where, fingerprint(load_public_key(public)) if public.exists() else None
    private = Path(settings.AUDIT_SIGNING_KEY_FILE)
    where = f"the key file {private} (AUDIT_SIGNING_KEY_FILE)"
    if not private.exists():
        return where, None
    try:
        key = load_pem_private_key(private.read_bytes(), password=None)
    except ValueError:
        return where, ""  # not a key: reported as the wrong one
    if not isinstance(key, Ed25519PrivateKey):
        return where, ""
    return where, fingerprint(key.public_key())


@sensitive_variables()
def _marker_index(key: bytes) -> str:
    """As ``fund.key_safety.blind_index_canary`` makes it, with the key as configured now."""
    return hmac.new(key, CANARY_MARKER.encode(), hashlib.sha256).hexdigest()


def _missing(kind: str, where: str, consequence: str) -> str:
    return (
        f"The {kind} is missing: it was expected in {where}. The database holds data made "
        f"with it ({consequence}), so no new key was generated. {RESTORE} to that place "
        "(file mode 0600) and start again."
    )


def _wrong(kind: str, where: str, consequence: str, hint: str = "") -> str:
    return (
        f"The {kind} in {where} is not the one this database's data was made with "
        f"({consequence}). {RESTORE} (the key that belongs to this database) and start "
        f"again.{hint}"
    )


@sensitive_variables()
def _field_key_problems(canary: KeyCanary) -> list[str]:
    kind, why = "field-encryption key", "no person could be read"
    configured = configured_field_keys()
    if configured.value is None:
        return [_missing(kind, configured.source, why)]
    try:
        master = MultiFernet([Fernet(key) for key in configured.value.split(b",")])
        opened = master.decrypt(canary.wrapped_marker.encode("ascii")) == CANARY_MARKER.encode()
    except (ValueError, InvalidToken):
        opened = False
    if opened:
        return []
    return [
        _wrong(
            kind,
            configured.source,
            why,
            " While rotating, list the new key first and the old one after it until "
            "`manage.py rotate_keys` has finished.",
        )
    ]


@sensitive_variables()
def _index_key_problems(canary: KeyCanary) -> list[str]:
    kind, why = "blind-index key", "duplicates and yearly limits per person would not be found"
    configured = configured_index_key()
    if configured.value is None:
        return [_missing(kind, configured.source, why)]
    if hmac.compare_digest(_marker_index(configured.value), canary.digest):
        return []
    return [
        _wrong(
            kind,
            configured.source,
            why,
            " If the key was replaced on purpose, run `manage.py rebuild_blind_index`: it "
            "recomputes every index and the canary under the new key.",
        )
    ]


SIGNING_KEY = "audit signing key"
SIGNING_CONSEQUENCE = "its checkpoints are what the auditors hold"


def _signing_key_problems(canary: KeyCanary) -> list[str]:
    where, found = configured_signing_fingerprint()
    if found is None:
        return [_missing(SIGNING_KEY, where, SIGNING_CONSEQUENCE)]
    if hmac.compare_digest(found, canary.digest):
        return []
    return [_wrong(SIGNING_KEY, where, SIGNING_CONSEQUENCE)]


def latest_checkpoint_key() -> tuple[int, str] | None:
    """(sequence, signer's key fingerprint) of the latest signed checkpoint, if there is one."""
    from audit.models import AuditCheckpoint

    if AuditCheckpoint._meta.db_table not in connection.introspection.table_names():
        return None
    return (
        AuditCheckpoint.objects.order_by("-sequence")
        .values_list("sequence", "key_fingerprint")
        .first()
    )


def checkpoint_key_problems() -> list[str]:
    """The configured audit key against the one the latest checkpoint names.

    A database from before canaries has no audit canary, but its checkpoints name their key:
    without this, a lost key file was replaced by a new pair and another installation's
    pair was taken as this database's. With ``AUDIT_SIGNER=socket:…`` the public key is
    compared (the private key stays with the signer).
    """
    latest = latest_checkpoint_key()
    if latest is None:
        return []
    sequence, named = latest
    where, found = configured_signing_fingerprint()
    if found is None:
        return [_missing(SIGNING_KEY, where, SIGNING_CONSEQUENCE)]
    if hmac.compare_digest(found, named):
        return []
    return [
        _wrong(
            SIGNING_KEY,
            where,
            SIGNING_CONSEQUENCE,
            f" The latest signed checkpoint (#{sequence}) names the key with fingerprint "
            f"{named[:16]}… (the auditors' checkpoint file shows it in full).",
        )
    ]


_CHECKS = {
    KeyCanaryKind.FIELD_ENCRYPTION: _field_key_problems,
    KeyCanaryKind.BLIND_INDEX: _index_key_problems,
    KeyCanaryKind.AUDIT_SIGNING: _signing_key_problems,
}


def canary_table_exists() -> bool:
    return KeyCanary._meta.db_table in connection.introspection.table_names()


def canary_problems_by_kind() -> dict[str, list[str]]:
    """Per kind of key, what is missing or wrong against its stored canary (only failures).

    Reads the keys as configured now, never the process's cached ones, and never generates
    one. Kinds without a canary are not checked, except the audit signing key, which is also
    held to the key the latest signed checkpoint names.
    """
    if not canary_table_exists():
        return {}
    found: dict[str, list[str]] = {}
    for canary in KeyCanary.objects.order_by("pk"):
        problems = _CHECKS[KeyCanaryKind(canary.kind)](canary)
        if problems:
            found[canary.kind] = problems
    if KeyCanaryKind.AUDIT_SIGNING not in found:
        problems = checkpoint_key_problems()
        if problems:
            found[KeyCanaryKind.AUDIT_SIGNING] = problems
    return found


def canary_problems() -> list[str]:
    """Every configured key that is missing or does not match its stored canary."""
    return [problem for problems in canary_problems_by_kind().values() for problem in problems]


@sensitive_variables()
def _new_canary(kind: str) -> KeyCanary:
    """A canary made with the key the process uses (generated here only on a fresh database,
    in embedded mode: core.crypto and audit.signing refuse while data under a key exists)."""
    from audit.signing import fingerprint, signing_key
    from core.crypto import wrap_with_master_keys

    if kind == KeyCanaryKind.FIELD_ENCRYPTION:
        return KeyCanary(kind=kind, wrapped_marker=wrap_with_master_keys(CANARY_MARKER))
    if kind == KeyCanaryKind.BLIND_INDEX:
        return KeyCanary(kind=kind, digest=blind_index_canary())
    if _uses_signer_process():
        where, found = configured_signing_fingerprint()
        if not found:
            raise KeysNotUsable(
                f"No audit public key in {where}: copy the signer's public key there."
            )
        return KeyCanary(kind=kind, digest=found)
    return KeyCanary(kind=kind, digest=fingerprint(signing_key().public_key()))


def write_missing_canaries() -> list[str]:
    """Give the database a canary for every key it has none of; the kinds written.

    Only after the configured keys open every stored data key, match the stored indexes and
    are the audit key the latest checkpoint names: a canary made with a wrong key would make
    the wrong key look right for good.
    """
    from operations.production_checks import stored_key_problems

    present = set(KeyCanary.objects.values_list("kind", flat=True))
    missing = [kind for kind in KeyCanaryKind.values if kind not in present]
    if not missing:
        return []
    problems = stored_key_problems() + checkpoint_key_problems()
    if problems:
        raise KeysNotUsable(refusal(problems))
    try:
        canaries = [_new_canary(kind) for kind in missing]
    except ImproperlyConfigured as exc:  # a missing key while data made with it exists
        raise KeysNotUsable(refusal([str(exc)])) from exc
    # One INSERT of non-personal system rows, no domain change: not an audit event (every
    # first start would otherwise append to the chain and wait for its lock).
    with transaction.atomic():
        KeyCanary.objects.bulk_create(canaries)
    logger.info("key canaries written: %s", ", ".join(missing))
    return missing


def refusal(problems: list[str]) -> str:
    return "Refusing to start: the keys do not fit this database.\n" + "\n".join(
        f"  - {problem}" for problem in problems
    )


def check_keys_at_start() -> None:
    """Refuse to serve with a missing or wrong key; give a database its missing canaries.

    Raises :class:`KeysNotUsable` with what is wrong and what to do, and
    :class:`KeysNotChecked` when the database does not answer (``operations.start_up_keys``
    then checks again once it does). An unmigrated database (no canary table yet) has
    nothing to compare with: ``/readyz`` reports it.
    """
    try:
        if not canary_table_exists():
            return
        problems = canary_problems()
        if not problems:
            try:
                write_missing_canaries()
            except IntegrityError:
                problems = canary_problems()  # another process wrote them first: check theirs
    except DatabaseError as exc:
        if unavailable_error(exc) is not None:
            raise KeysNotChecked(f"{kind_of(exc)}: {first_line(exc)}") from exc
        raise KeysNotUsable(  # not an outage (a missing grant, a broken table): say so
            "Refusing to start: the keys could not be checked against the database "
            f"({kind_of(exc)}: {first_line(exc)})."
        ) from exc
    if problems:
        raise KeysNotUsable(refusal(problems))
