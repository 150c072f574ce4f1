"""Appending to the audit chain.

Every domain service calls :func:`record_event` inside the transaction that makes the
change, so the event and the change commit or roll back together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from audit.canonical import GENESIS_HASH, HASHED_FIELDS, event_hash, normalise
from audit.checkpoints import schedule_after_commit
from audit.models import AuditEvent, AuditHead

#: Keys that would carry personal values. Payloads use ids, states, amounts, field names.
FORBIDDEN_PAYLOAD_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "personnummer",
        "personal_number",
        "address",
        "email",
        "phone",
        "contact",
        "description",
        "statement",
        "note",
        "username",
    }
)

_PERSONNUMMER = re.compile(r"\b(19|20)?\d{6}[-+]?\d{4}\b")

#: What a string in a payload may be: a code or a reference (one token, no spaces, ASCII),
#: e.g. ``sol_4_1``, ``A-2026-000001``, ``pain.001.001.03``, a SHA-256 in hex.
#: Every string value real events carried when this was written fits (issue #14).
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+@#-]{0,79}")
#: An ISO 8601 date or timestamp.
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
#: A word written like a name ("Anna", "Anna-Karin"): codes are lower_snake or UPPER.
_NAME_LIKE = re.compile(r"[A-Z][a-z]+(-[A-Z][a-z]+)*")
#: An event's action, object type and actor role: fixed codes of the program, never input
#: (``application.submit``, ``ledger.dimensionobject_created``, ``decision_maker``).
_EVENT_CODE = re.compile(r"[a-z][a-z0-9_.]{0,63}")


class AuditPayloadError(ValueError):
    """A payload that could carry personal data, or that has no canonical form."""


class AuditOutsideTransaction(RuntimeError):
    """An event must share the transaction of the change it records."""


def _check_payload(payload: Any, path: str = "payload") -> None:
    """Refuse anything but codes, references, numbers and dates.

    The log is hash-chained and never erased, so it must be unable to hold free text: a name,
    a police-report number or a crime type typed into any field would stay there for good.
    """
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            if str(key).lower() in FORBIDDEN_PAYLOAD_KEYS:
                raise AuditPayloadError(f"{path}.{key}: personal values never go in the audit log")
            check_loggable_text(str(key), f"{path} key")
            _check_payload(value, f"{path}.{key}")
    elif isinstance(payload, list | tuple):
        for index, value in enumerate(payload):
            _check_payload(value, f"{path}[{index}]")
    elif isinstance(payload, str):
        check_loggable_text(payload, path)
    elif isinstance(payload, int | float | Decimal) and not isinstance(payload, bool):
        _check_number(payload, path)


def _check_number(number: int | float | Decimal, path: str) -> None:
    """A personnummer typed as a number (8112189876, 198112189876) is still one.

    A number's whole part is refused when it reads as one: 10 or 12 digits, a birth date (or
    samordningsnummer day + 60) and a valid check digit. Ids and sequences are far shorter,
    and a large amount such as 1000000000 is no date.
    """
    try:
        whole = str(abs(int(number)))
    except (ValueError, OverflowError):  # NaN, infinity: no digits to read
        return
    if len(whole) == 12 and whole[:2] in ("19", "20"):
        whole = whole[2:]
    if len(whole) != 10:
        return
    month, day = int(whole[2:4]), int(whole[4:6])
    if 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91) and _luhn_valid(whole):
        raise AuditPayloadError(f"{path}: looks like a personal identity number")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def check_loggable_text(text: str, path: str) -> None:
    """Refuse text the log may not hold (also used to validate codes where they are typed)."""
    if _PERSONNUMMER.search(text):
        raise AuditPayloadError(f"{path}: looks like a personal identity number")
    if text == "" or _ISO_DATE.fullmatch(text):
        return
    if not _CODE.fullmatch(text) or _NAME_LIKE.fullmatch(text):
        raise AuditPayloadError(
            f"{path}: only codes and references go in the audit log, never free text "
            "(keep text under the person's key instead)"
        )


def _check_event_fields(*, action: str, role: str, object_type: str, object_ref: str) -> None:
    """The event's own columns are chained and kept for good like its payload.

    Action, object type and role are codes (the last two may be empty); the object
    reference is a reference or id under the payload's rule (code-shaped, no personnummer).
    """
    codes = {"action": action, "object_type": object_type, "role": role}
    for field, value in codes.items():
        if (value or field == "action") and not _EVENT_CODE.fullmatch(value):
            raise AuditPayloadError(
                f"{field}: an event's {field} is a code (lower-case letters, digits, _ and .), "
                "never free text"
            )
    check_loggable_text(object_ref, "object_ref")


#: Key of the PostgreSQL transaction-level advisory lock that serialises appends
#: ("FFAUDIT1" as a 64-bit integer). It also covers the head row's creation on first use.
APPEND_LOCK_KEY = 0x4646415544495431


def _lock_head(wait: bool = True) -> tuple[int, str] | None:
    """Take the head row for update, creating it on first use; return (sequence, hash).

    On PostgreSQL an advisory transaction lock comes first, so even the very first append
    (when no head row exists yet to lock) is serialised; then the head row is locked with
    SELECT … FOR UPDATE. On SQLite the settings open every transaction with BEGIN
    IMMEDIATE: writers are serialised by the database itself. With ``wait=False``
    (PostgreSQL) it returns None instead of queueing when someone holds the lock.

    Appends are on every domain change's path, so this and :func:`_append` speak SQL
    directly: three short statements instead of three ORM round trips.
    """
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not wait:
            # Automatic checkpoints only: never queue behind appends (None: busy, later).
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return None
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])
        # Table name from the model, never from input.
        sql = f"SELECT sequence, hash FROM {_HEAD} WHERE id = 1{for_update}"  # noqa: S608 # nosec B608
        cursor.execute(sql)
        row = cursor.fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=1, sequence=0, hash=GENESIS_HASH)
    except IntegrityError:
        pass
    head = AuditHead.objects.select_for_update().get(pk=1)
    return head.sequence, head.hash


_HEAD = AuditHead._meta.db_table
_COLUMNS = (*HASHED_FIELDS, "hash")
_FIELDS: list[Field[Any, Any]] = [
    next(f for f in AuditEvent._meta.concrete_fields if f.name == n) for n in _COLUMNS
]


def _append(event: AuditEvent) -> None:
    """INSERT the event (values prepared by the model's own fields) and move the head."""
    _insert([event])
    _move_head(event)


def _insert(events: list[AuditEvent]) -> None:
    """One INSERT of these events' rows, in order; their ids read back where the database can."""
    meta = AuditEvent._meta
    values = [
        field.get_db_prep_save(getattr(event, field.name), connection)
        for event in events
        for field in _FIELDS
    ]
    columns = ", ".join(connection.ops.quote_name(name) for name in _COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model, values as parameters.
            f"INSERT INTO {meta.db_table} ({columns}) VALUES {', '.join([row] * len(events))}"  # noqa: S608 # nosec B608
            f"{returning}",
            values,
        )
        if returning:
            ids = [r[0] for r in cursor.fetchall()]
        else:  # one row at a time without RETURNING (never on PostgreSQL or SQLite >= 3.35)
            ids = [cursor.lastrowid] if len(events) == 1 else [None] * len(events)
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias


def _move_head(event: AuditEvent) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_HEAD} SET sequence = %s, hash = %s WHERE id = 1",  # noqa: S608 # nosec B608
            [event.sequence, event.hash],
        )


@dataclass(frozen=True)
class NewEvent:
    """One event to append with :func:`record_events` (the arguments of :func:`record_event`)."""

    action: str
    actor: Any = None
    role: str = ""
    object_type: str = ""
    object_ref: str = ""
    payload: Mapping[str, Any] | None = None


def _checked_body(event: NewEvent) -> Any:
    """The event's payload in canonical form, once its fields and payload are loggable."""
    _check_event_fields(
        action=event.action,
        role=event.role,
        object_type=event.object_type,
        object_ref=event.object_ref,
    )
    raw = dict(event.payload or {})
    _check_payload(raw)  # before normalising: a Decimal amount is a number, not text
    return normalise(raw)


def _chained(event: NewEvent, body: Any, sequence: int, prev_hash: str) -> AuditEvent:
    """The stored event at ``sequence`` after ``prev_hash``, its hash computed."""
    actor = event.actor
    built = AuditEvent(
        sequence=sequence,
        occurred_at=timezone.now(),
        actor_id=getattr(actor, "pk", None) if actor is not None else None,
        actor_role=event.role,
        action=event.action,
        object_type=event.object_type,
        object_ref=event.object_ref,
        payload=body,
        prev_hash=prev_hash,
    )
    built.hash = event_hash(built.hashed_fields())
    return built


def _locked_head() -> tuple[int, str]:
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("record_event must run inside the change's transaction")
    head = _lock_head()
    if head is None:  # pragma: no cover - a waiting lock always returns the head
        raise RuntimeError("the audit append lock was not taken")
    return head


def record_event(
    *,
    action: str,
    actor: Any = None,
    role: str = "",
    object_type: str = "",
    object_ref: str = "",
    payload: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("record_event must run inside the change's transaction")
    new = NewEvent(action, actor, role, object_type, object_ref, payload)
    body = _checked_body(new)
    sequence, prev_hash = _locked_head()
    event = _chained(new, body, sequence + 1, prev_hash)
    _append(event)
    connection.audit_appended_up_to = event.sequence  # type: ignore[attr-defined]
    schedule_after_commit()
    return event


#: Rows per INSERT when many events are appended at once (10 columns: well under SQLite's
#: limit of bound parameters).
APPEND_CHUNK = 500


def record_events(events: Sequence[NewEvent]) -> list[AuditEvent]:
    """Append many events in one go, in the caller's transaction: a bank file's payments.

    The chain is exactly the one :func:`record_event` would build appending them one by one in
    this order — same sequences, links and hashes (each event's own time) — but the head is
    locked and moved once and the rows go in a few multi-row INSERTs. Every event is checked
    before any is written, so a refused payload appends none of them.
    """
    if not events:
        return []
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("record_events must run inside the change's transaction")
    bodies = [_checked_body(event) for event in events]
    sequence, prev_hash = _locked_head()
    built: list[AuditEvent] = []
    for event, body in zip(events, bodies, strict=True):
        sequence += 1
        built.append(_chained(event, body, sequence, prev_hash))
        prev_hash = built[-1].hash
    for start in range(0, len(built), APPEND_CHUNK):
        _insert(built[start : start + APPEND_CHUNK])
    _move_head(built[-1])
    connection.audit_appended_up_to = built[-1].sequence  # type: ignore[attr-defined]
    schedule_after_commit()
    return built


# Checkpoints live in audit.checkpoints; these names stay importable from here.
from audit.checkpoints import ChainBroken, create_checkpoint  # noqa: E402

__all__ = ["ChainBroken", "NewEvent", "create_checkpoint", "record_event", "record_events"]
