"""Verify the chain stored in the database: stream every event, recompute, compare.

Used by ``manage.py audit_verify``, the ``verify_chain`` task and, incrementally from the
latest checkpoint, by checkpoint creation. The checks themselves live in
:mod:`audit.chain`, shared with the offline verifier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from json.scanner import make_scanner
from typing import Any

from django.db.models import CharField, Func, QuerySet, TextField
from django.db.models.functions import Cast

from audit import signing
from audit.canonical import GENESIS_HASH, format_timestamp
from audit.chain import Break, Checkpoint, Entry, Outcome, check_signatures, walk
from audit.models import AuditCheckpoint, AuditEvent, AuditHead

#: The columns read for verification, in the order of :class:`audit.chain.Entry`.
ENTRY_FIELDS = Entry._fields
CHUNK_SIZE = 5000


class VerificationNotPossible(RuntimeError):
    """Checkpoints exist but there is no public key to check them with."""


class CanonicalTimestamp(Func):
    """A timestamp spelt as the hash spells it, by the database itself: no per-row parsing."""

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "to_char((%(expressions)s) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django keeps UTC as text, 'YYYY-MM-DD HH:MM:SS[.ffffff]' (no fraction when zero).
        template = (
            "replace(CASE WHEN length(%(expressions)s) = 19 THEN %(expressions)s || '.000000' "
            "ELSE %(expressions)s END, ' ', 'T') || 'Z'"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def entry_rows(queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent, tuple[Any, ...]]:
    """The entry columns, with the timestamp canonical and the payload as JSON text."""
    return queryset.annotate(
        _ts=CanonicalTimestamp("occurred_at"), _body=Cast("payload", TextField())
    ).values_list(*[{"occurred_at": "_ts", "payload": "_body"}.get(f, f) for f in ENTRY_FIELDS])


#: The C scanner, without json.loads' layers (typeshed mis-types make_scanner's argument).
_scan_json = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def load_payload(text: str) -> Any:
    """Parse a stored payload; anything but exactly one JSON value is kept as the raw text
    (whose hash then cannot match, so the entry shows as modified)."""
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError):
        return text
    return value if end == len(text) else text


def as_entry(row: tuple[Any, ...]) -> Entry:
    return Entry._make((*row[:7], load_payload(row[7]), row[8], row[9]))


def stream_entries(queryset: QuerySet[AuditEvent] | None = None) -> Iterator[tuple[Any, ...]]:
    """Events in sequence order as :class:`Entry`-shaped tuples, fetched in chunks.

    Memory stays flat for any chain length (a server-side cursor on PostgreSQL). Plain
    tuples rather than ``Entry`` objects: this is the verifier's hot loop.
    """
    queryset = AuditEvent.objects.all() if queryset is None else queryset
    for row in entry_rows(queryset.order_by("sequence")).iterator(CHUNK_SIZE):
        yield (*row[:7], load_payload(row[7]), row[8], row[9])


class DatabaseLookup:
    """Indexed point queries for the diagnosis of a break."""

    def by_hash(self, digest: str) -> Entry | None:
        row = entry_rows(AuditEvent.objects.filter(hash=digest)).first()
        return as_entry(row) if row else None

    def by_prev_hash(self, digest: str) -> list[Entry]:
        rows = entry_rows(AuditEvent.objects.filter(prev_hash=digest).order_by("sequence"))
        return [as_entry(row) for row in rows[:10]]


def stored_checkpoints() -> list[Checkpoint]:
    return [
        Checkpoint(
            sequence=cp.sequence,
            hash=cp.hash,
            signature=cp.signature,
            key_fingerprint=cp.key_fingerprint,
            created_at=format_timestamp(cp.created_at),
        )
        for cp in AuditCheckpoint.objects.order_by("sequence")
    ]


def _trusted(
    checkpoints: list[Checkpoint], public_key: Any
) -> tuple[list[Checkpoint], Break | None]:
    """The checkpoints below the first bad signature, and that bad signature if any."""
    if not checkpoints:
        return [], None
    if public_key is None:
        raise VerificationNotPossible(
            f"{len(checkpoints)} signed checkpoints exist but there is no public key at "
            "AUDIT_PUBLIC_KEY_FILE to check them with."
        )
    bad = check_signatures(checkpoints, public_key)
    if bad is None:
        return checkpoints, None
    return [cp for cp in checkpoints if cp.sequence < bad.sequence], bad


def verify_chain(public_key: Any = None) -> Outcome:
    """Verify the whole chain against every signed checkpoint and the head row."""
    head = AuditHead.objects.filter(pk=1).values_list("sequence", flat=True).first()
    checkpoints, bad = _trusted(stored_checkpoints(), public_key or signing.public_key())
    outcome = walk(
        stream_entries(),
        checkpoints=checkpoints,
        lookup=DatabaseLookup(),
        recorded_head=head,
    )
    if bad is not None and (outcome.broken is None or bad.sequence <= outcome.broken.sequence):
        return replace(outcome, broken=bad)
    return outcome


def verify_since_last_checkpoint(public_key: Any = None) -> Outcome:
    """Verify only the entries after the latest checkpoint (whose signature must hold)."""
    latest = AuditCheckpoint.objects.order_by("-sequence").first()
    if latest is None:
        return walk(stream_entries(), lookup=DatabaseLookup())
    checkpoint = Checkpoint(latest.sequence, latest.hash, latest.signature, latest.key_fingerprint)
    _, bad = _trusted([checkpoint], public_key or signing.public_key())
    if bad is not None:
        return Outcome(0, latest.sequence, latest.sequence, latest.hash, 0, broken=bad)
    anchor = AuditEvent.objects.filter(sequence=latest.sequence).values_list("hash", flat=True)
    if list(anchor) != [latest.hash]:
        return verify_chain(public_key)  # the checkpointed entry itself changed: full diagnosis
    return walk(
        stream_entries(AuditEvent.objects.filter(sequence__gt=latest.sequence)),
        lookup=DatabaseLookup(),
        start_sequence=latest.sequence + 1,
        start_hash=latest.hash or GENESIS_HASH,
    )
