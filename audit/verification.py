"""Verify the chain stored in the database: stream every event, recompute, compare.

Used by ``manage.py audit_verify``, the ``verify_chain`` task and, incrementally from the
latest checkpoint, by checkpoint creation. The checks themselves live in
:mod:`audit.chain`, shared with the offline verifier.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import CharField, Func, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from audit import signing
from audit.canonical import GENESIS_HASH, format_timestamp
from audit.chain import (
    Break,
    Checkpoint,
    Entry,
    Outcome,
    check_signatures,
    check_timestamps,
    parse_payload,
    walk,
)
from audit.checkpoint_file import HeldCheckpoint
from audit.merkle import Frontier
from audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditTimestamp
from audit.note import CheckpointBody, split_note

logger = logging.getLogger("fundflow.audit")

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


load_payload = parse_payload


def as_entry(row: tuple[Any, ...]) -> Entry:
    return Entry._make((*row[:7], load_payload(row[7]), row[8], row[9]))


def stored_rows(
    queryset: QuerySet[AuditEvent] | None = None,
) -> Generator[tuple[Any, ...], None, None]:
    """Events in sequence order as plain tuples, the payload as its stored JSON text.

    The verifier's hot loop (``walk(..., payload_text=True)``): the query the ORM writes,
    run on a chunked cursor (server-side on PostgreSQL), so memory stays flat for any chain
    length and no per-row ORM work is done.
    """
    queryset = AuditEvent.objects.all() if queryset is None else queryset
    query = entry_rows(queryset.order_by("sequence")).query
    compiler = query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    connection = connections[queryset.db]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield from rows


def stream_entries(queryset: QuerySet[AuditEvent] | None = None) -> Iterator[tuple[Any, ...]]:
    """Events in sequence order as :class:`Entry`-shaped tuples, the payload parsed."""
    for row in stored_rows(queryset):
        yield (*row[:7], load_payload(row[7]), row[8], row[9])


def walk_stored(queryset: QuerySet[AuditEvent] | None = None, **options: Any) -> Outcome:
    """:func:`audit.chain.walk` over the stored events, by the backend's fastest sound path.

    SQLite keeps a JSONField as the text it was given — canonical text, as
    ``record_event`` writes it — so the walk hashes that text as is. PostgreSQL's ``jsonb``
    keeps no text (it prints ``{"a": 1}``, never canonical), so there every payload is
    parsed and re-encoded, inside the walk (no tuple rebuilt per row on the way). There the
    rows are read in a transaction: outside one Django declares the cursor WITH HOLD, and
    PostgreSQL then writes the whole result out before it hands over the first row.
    """
    db = AuditEvent.objects.db if queryset is None else queryset.db
    if connections[db].vendor == "postgresql":
        with transaction.atomic(using=db), closing(stored_rows(queryset)) as rows:
            return walk(rows, payload_text=True, canonical_text=False, **options)
    with closing(stored_rows(queryset)) as rows:
        return walk(rows, payload_text=True, **options)


class DatabaseLookup:
    """Indexed point queries for the diagnosis of a break."""

    def by_hash(self, digest: str) -> Entry | None:
        row = entry_rows(AuditEvent.objects.filter(hash=digest)).first()
        return as_entry(row) if row else None

    def by_prev_hash(self, digest: str) -> list[Entry]:
        rows = entry_rows(AuditEvent.objects.filter(prev_hash=digest).order_by("sequence"))
        return [as_entry(row) for row in rows[:10]]


def as_checkpoint(cp: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(
        sequence=cp.sequence,
        hash=cp.hash,
        signature=cp.signature,
        key_fingerprint=cp.key_fingerprint,
        created_at=format_timestamp(cp.created_at),
        note=cp.note,
        root_hash=cp.root_hash,
    )


def stored_checkpoints() -> list[Checkpoint]:
    return [as_checkpoint(cp) for cp in AuditCheckpoint.objects.order_by("sequence")]


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
    bad = check_signatures(checkpoints, public_key, signing.log_origin())
    if bad is None:
        return checkpoints, None
    return [cp for cp in checkpoints if cp.sequence < bad.sequence], bad


def verify_chain(
    public_key: Any = None, held: Sequence[HeldCheckpoint] = (), tsa_roots: Sequence[bytes] = ()
) -> Outcome:
    """Verify the whole chain against every signed checkpoint, the head row and the clock.

    ``held`` are checkpoints an auditor kept (their signatures already verified with the
    key in their file): the chain must pass through each, whatever the server's own
    checkpoints say. Timestamp tokens are checked against ``tsa_roots`` (default: the CA
    certificates at AUDIT_TSA_CA_FILE).
    """
    head = AuditHead.objects.filter(pk=1).values_list("sequence", flat=True).first()
    public_key = public_key or signing.public_key()
    signer_held, signer_warning = _signer_process_checkpoint(public_key)
    held = [*held, *signer_held]
    checkpoints, bad = _trusted(stored_checkpoints(), public_key)
    outcome = walk_stored(
        checkpoints=checkpoints,
        held=[h.as_checkpoint() for h in held],
        lookup=DatabaseLookup(),
        recorded_head=head,
        clock_tolerance=settings.AUDIT_CLOCK_TOLERANCE_SECONDS,
    )
    if bad is not None and (outcome.broken is None or bad.sequence <= outcome.broken.sequence):
        return replace(outcome, broken=bad)
    if outcome.broken is None:
        stamped = _stored_tokens(checkpoints)
        broken = check_timestamps(
            [*stamped, *((h.body, h.note, h.token, h.source) for h in held if h.token)],
            list(tsa_roots) or configured_tsa_roots(),
            settings.AUDIT_CLOCK_TOLERANCE_SECONDS,
        )
        if broken is not None:
            return replace(outcome, broken=broken)
    warnings = [
        f"the log is signed with key {signing.fingerprint(public_key)[:16]}… now; the checkpoints "
        f"in {h.source} were signed with {h.key_fingerprint[:16]}…: the log was re-keyed since"
        for h in _first_per_file(held)
        if public_key is not None and h.key_fingerprint != signing.fingerprint(public_key)
    ]
    warnings += signer_warning
    return replace(outcome, warnings=tuple(warnings)) if warnings else outcome


def _signer_process_checkpoint(public_key: Any) -> tuple[list[HeldCheckpoint], list[str]]:
    """The last checkpoint a signer process signed, held outside the database like an
    auditor's: a chain rewritten in the database (checkpoint rows deleted too) contradicts it
    at once, not only when the next checkpoint is refused."""
    active = signing.signer()
    if not hasattr(active, "last_signed_note") or public_key is None:
        return [], []
    from audit.note import NoteError, VerifierKey, open_note
    from audit.signer import SignerRefused

    try:
        note = active.last_signed_note()
        if not note:
            return [], []
        vkey = VerifierKey(signing.log_origin(), public_key)
        body = CheckpointBody.parse(open_note(note, [vkey])[0])
    except (SignerRefused, NoteError) as exc:
        return [], [f"the signer process's last checkpoint could not be checked: {exc}"]
    label = "the signer process's last signed checkpoint"
    return [HeldCheckpoint(body, note, label, None, vkey.fingerprint)], []


def verify_since_last_checkpoint(public_key: Any = None) -> tuple[Outcome, Frontier | None]:
    """Verify only the entries after the latest checkpoint (whose signature must hold).

    Also returns the Merkle frontier at the head, recomputed on the way from the latest
    checkpoint's (when that one has a frontier matching its signed root), else None.
    """
    latest = AuditCheckpoint.objects.order_by("-sequence").first()
    if latest is None:
        fresh = Frontier()
        return walk_stored(lookup=DatabaseLookup(), start_frontier=fresh), fresh
    checkpoint = as_checkpoint(latest)
    _, bad = _trusted([checkpoint], public_key or signing.public_key())
    if bad is not None:
        return Outcome(0, latest.sequence, latest.sequence, latest.hash, 0, broken=bad), None
    anchor = AuditEvent.objects.filter(sequence=latest.sequence).values_list("hash", flat=True)
    if list(anchor) != [latest.hash]:
        return verify_chain(public_key), None  # the checkpointed entry itself changed
    frontier = _signed_frontier(latest)
    outcome = walk_stored(
        AuditEvent.objects.filter(sequence__gt=latest.sequence),
        lookup=DatabaseLookup(),
        start_sequence=latest.sequence + 1,
        start_hash=latest.hash or GENESIS_HASH,
        start_frontier=frontier,
    )
    return outcome, frontier


def _signed_frontier(checkpoint: AuditCheckpoint) -> Frontier | None:
    """The checkpoint's stored frontier, if it yields the root its note signs."""
    if not checkpoint.frontier or not checkpoint.root_hash:
        return None
    try:
        frontier = Frontier.decode(checkpoint.frontier)
    except ValueError:
        return None
    if frontier.size != checkpoint.sequence or frontier.root().hex() != checkpoint.root_hash:
        return None
    return frontier


def _first_per_file(held: Sequence[HeldCheckpoint]) -> list[HeldCheckpoint]:
    seen: dict[str, HeldCheckpoint] = {}
    for h in held:
        seen.setdefault(h.source, h)
    return list(seen.values())


def configured_tsa_roots() -> list[bytes]:
    path = settings.AUDIT_TSA_CA_FILE
    return [Path(path).read_bytes()] if path else []


def _stored_tokens(checkpoints: Sequence[Checkpoint]) -> list[tuple[Any, str, bytes, str]]:
    """(note body, note, token, label) for every stored timestamp of a trusted checkpoint."""
    notes = {cp.sequence: cp.note for cp in checkpoints if cp.note}
    rows = AuditTimestamp.objects.select_related("checkpoint").order_by("checkpoint__sequence")
    found = []
    for row in rows:
        note = notes.get(row.checkpoint.sequence)
        if note is not None:
            body = CheckpointBody.parse(split_note(note)[0])
            found.append((body, note, base64.b64decode(row.token), "the database"))
    return found


def verify_and_record(held: Sequence[HeldCheckpoint] = ()) -> Outcome:
    """Verify, keep the outcome for the pages, and alert when the chain is broken."""
    from audit.checkpoints import alert, record_run

    outcome = verify_chain(held=held)
    broken = outcome.broken
    record_run(
        "verify",
        broken is None,
        outcome.line().splitlines()[0],
        broken.sequence if broken is not None else None,
        checked=outcome.entries,
    )
    if broken is not None:
        logger.error(broken.line())
        alert(
            f"Audit chain broken at sequence {broken.sequence}",
            broken.line() + "\n\nRun `manage.py audit_verify` for details.",
        )
    return outcome


#: An auditor's verification on demand (the API) runs at most this often: each run hashes the
#: whole chain, so a looping client must not keep the server at it.
ON_DEMAND_EVERY = dt.timedelta(seconds=60)


class VerifiedRecently(RuntimeError):
    """A full verification ran moments ago; ``wait`` seconds until the next may start."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"verified recently; next in {wait} s")
        self.wait = wait


def verify_on_demand() -> Outcome:
    """:func:`verify_and_record`, unless a full verification ran within ``ON_DEMAND_EVERY``
    (its result is the last run, which the auditor reads)."""
    from audit.checkpoints import last_verification_run

    last = last_verification_run()
    if last is not None:
        since = timezone.now() - last.ran_at
        if since < ON_DEMAND_EVERY:
            raise VerifiedRecently(max(1, int((ON_DEMAND_EVERY - since).total_seconds()) + 1))
    return verify_and_record()
