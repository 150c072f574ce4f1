"""Verify the chain stored in the database: stream every event, recompute, compare.

Used by ``manage.py audit_verify``, the ``verify_chain`` task and, incrementally from the
latest checkpoint, by checkpoint creation. The checks themselves live in
:mod:`audit.chain`, shared with the offline verifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from django.db.models import QuerySet

from audit import signing
from audit.canonical import GENESIS_HASH, format_timestamp
from audit.chain import Break, Checkpoint, Entry, Outcome, check_signatures, walk
from audit.models import AuditCheckpoint, AuditEvent, AuditHead

#: The columns read for verification, in the order of :class:`audit.chain.Entry`.
ENTRY_FIELDS = Entry._fields
CHUNK_SIZE = 5000


class VerificationNotPossible(RuntimeError):
    """Checkpoints exist but there is no public key to check them with."""


def as_entry(row: tuple[Any, ...]) -> Entry:
    return Entry(row[0], format_timestamp(row[1]), *row[2:])


def stream_entries(queryset: QuerySet[AuditEvent] | None = None) -> Iterator[Entry]:
    """Events in sequence order, fetched in chunks: memory stays flat for any chain length."""
    queryset = AuditEvent.objects.all() if queryset is None else queryset
    rows = queryset.order_by("sequence").values_list(*ENTRY_FIELDS).iterator(CHUNK_SIZE)
    for row in rows:
        yield Entry(row[0], format_timestamp(row[1]), *row[2:])


class DatabaseLookup:
    """Indexed point queries for the diagnosis of a break."""

    def by_hash(self, digest: str) -> Entry | None:
        row = AuditEvent.objects.filter(hash=digest).values_list(*ENTRY_FIELDS).first()
        return as_entry(row) if row else None

    def by_prev_hash(self, digest: str) -> list[Entry]:
        rows = AuditEvent.objects.filter(prev_hash=digest).values_list(*ENTRY_FIELDS)[:10]
        return [as_entry(row) for row in rows]


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
