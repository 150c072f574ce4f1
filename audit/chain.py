"""Walking the hash chain: the one implementation of the checks.

Shared by ``manage.py audit_verify`` (rows streamed from the database) and the offline
verifier ``python -m audit.verify`` (rows streamed from an exported trail), so this module
needs only the standard library and ``cryptography`` — never Django.

The walk is a single pass in bounded memory: it keeps the previous hash, the expected
sequence number and the sorted list of signed checkpoints. Only when it meets the first
broken entry does it ask a :class:`Lookup` a few questions to say *what* is wrong there.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from json.scanner import make_scanner
from typing import Any, NamedTuple, Protocol

from audit.canonical import (
    GENESIS_HASH,
    _dump_payload,
    checkpoint_message,
    stored_event_bytes,
)
from audit.merkle import Frontier

_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C-accelerated

#: How far around a displaced entry the diagnosis looks for its original sequence number.
DIAGNOSIS_WINDOW = 256


#: The C scanner, without json.loads' layers (typeshed mis-types make_scanner's argument).
_scan_json = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def parse_payload(text: str) -> Any:
    """Parse a stored payload; anything but exactly one JSON value is kept as the raw text
    (whose hash then cannot match, so the entry shows as modified)."""
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError):
        return text
    return value if end == len(text) else text


def _payload_encoder() -> Callable[[Any], str]:
    """``canonical``'s payload encoding with JSONEncoder.encode's Python layers left out.

    ``JSONEncoder.encode`` builds a new C encoder on every call; this one is built once with
    the same settings (sorted keys, no whitespace, no ASCII escaping, no NaN). Parsed JSON
    holds no cycles and no foreign types, so neither the cycle check nor ``default`` is
    needed. Without the C accelerator it is ``canonical``'s encoder itself.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return _dump_payload
    encode = make(None, None, _quote, None, ":", ",", True, False, False)
    join = "".join

    def encode_payload(value: Any) -> str:
        return join(encode(value, 0))

    return encode_payload


encode_payload = _payload_encoder()


def canonical_payload_text(text: str) -> str:
    """The canonical spelling of a payload stored as JSON text: one parse, one encode.

    Text that is not exactly one JSON value comes out as a JSON string, so the event's hash
    cannot match and the entry shows as modified.
    """
    return encode_payload(parse_payload(text))


def event_text_bytes(entry: tuple[Any, ...], payload_text: str) -> bytes:
    """An entry's canonical bytes with ``payload_text`` spliced in as the payload, as is.

    ``canonical.stored_text_bytes`` for a whole row (the entry's other fields quoted exactly
    as in the canonical form): the verifier's hot path, so it takes the row, not nine
    arguments.
    """
    actor = entry[2]
    return (
        f'{{"action":{_quote(entry[4])},'
        f'"actor_id":{"null" if actor is None else int(actor)},'
        f'"actor_role":{_quote(entry[3])},"object_ref":{_quote(entry[6])},'
        f'"object_type":{_quote(entry[5])},"occurred_at":{_quote(entry[1])},'
        f'"payload":{payload_text},"prev_hash":{_quote(entry[8])},'
        f'"sequence":{int(entry[0])}}}'
    ).encode()


class Entry(NamedTuple):
    """One stored event, with its timestamp already in canonical spelling."""

    sequence: int
    occurred_at: str
    actor_id: int | None
    actor_role: str
    action: str
    object_type: str
    object_ref: str
    payload: Any
    prev_hash: str
    hash: str

    def computed_hash(self, sequence: int | None = None) -> str:
        """The hash of this entry's content, as if it sat at ``sequence`` (default: its own)."""
        return hashlib.sha256(
            stored_event_bytes(
                self.sequence if sequence is None else sequence,
                self.occurred_at,
                self.actor_id,
                self.actor_role,
                self.action,
                self.object_type,
                self.object_ref,
                self.payload,
                self.prev_hash,
            )
        ).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain had ``sequence`` entries and its head was ``hash``.

    Second-format checkpoints also carry their signed ``note`` (which the signature covers:
    size, Merkle root, chain head, time) and the Merkle ``root_hash`` (hex).
    """

    sequence: int
    hash: str
    signature: str  # base64 of the 64-byte Ed25519 signature
    key_fingerprint: str
    created_at: str = ""
    note: str = ""
    root_hash: str = ""
    label: str = ""  # where it comes from, for messages (an auditor's file)


class Problem(enum.StrEnum):
    MODIFIED = "modified"
    MISSING = "missing (deleted)"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad checkpoint signature"
    REWRITTEN = "rewritten"
    CONTRADICTS_HELD = "contradicts a checkpoint held outside"
    CLOCK = "time out of order"
    BAD_TIMESTAMP = "timestamp token does not hold"


@dataclass(frozen=True)
class Break:
    """The first broken sequence number and what is wrong there."""

    sequence: int
    problem: Problem
    detail: str

    def line(self) -> str:
        return f"audit chain BROKEN at sequence {self.sequence}: {self.problem}: {self.detail}"


@dataclass(frozen=True)
class Outcome:
    entries: int
    first_sequence: int
    last_sequence: int
    last_hash: str
    checkpoints: int
    broken: Break | None = None
    held: int = 0  # checkpoints held outside that the chain was checked against
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.broken is None

    def line(self) -> str:
        warnings = "".join(f"\nwarning: {w}" for w in self.warnings)
        if self.broken is not None:
            return self.broken.line() + warnings
        if not self.entries:
            return f"audit chain intact: empty, {self.checkpoints} checkpoints"
        held = f", {self.held} checkpoints held outside match" if self.held else ""
        return (
            f"audit chain intact: {self.entries} entries ({self.first_sequence}..."
            f"{self.last_sequence}), head {self.last_hash[:16]}…, "
            f"{self.checkpoints} signed checkpoints verified{held}"
        ) + warnings


class Lookup(Protocol):
    """Point queries the diagnosis needs once a break is found (never on the happy path)."""

    def by_hash(self, digest: str) -> Entry | None: ...

    def by_prev_hash(self, digest: str) -> list[Entry]: ...


class NoLookup:
    """For callers that cannot look back: breaks are still found, only described less."""

    def by_hash(self, digest: str) -> Entry | None:
        return None

    def by_prev_hash(self, digest: str) -> list[Entry]:
        return []


def key_fingerprint(raw_public_key: bytes) -> str:
    """SHA-256 of the raw 32-byte Ed25519 public key, hex."""
    return hashlib.sha256(raw_public_key).hexdigest()


def check_signatures(
    checkpoints: Sequence[Checkpoint], public_key: Any, origin: str | None = None
) -> Break | None:
    """The lowest checkpoint whose signature does not verify with ``public_key``.

    A second-format checkpoint is a signed note: the note must verify under the log's name
    (``origin``; by default the note's own first line) and state exactly the row's size,
    chain head, Merkle root and time — so none of them can be changed without the key.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from audit.note import CheckpointBody, NoteError, VerifierKey, open_note, split_note

    expected_fp = key_fingerprint(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    for cp in sorted(checkpoints, key=lambda c: c.sequence):

        def bad(detail: str, cp: Checkpoint = cp) -> Break:
            return Break(cp.sequence, Problem.BAD_SIGNATURE, detail)

        if cp.key_fingerprint != expected_fp:
            return bad(
                f"checkpoint at {cp.sequence} names key {cp.key_fingerprint[:16]}…, "
                f"not the configured public key {expected_fp[:16]}…"
            )
        if cp.note:
            name = origin or cp.note.split("\n", 1)[0]
            try:
                body = CheckpointBody.parse(open_note(cp.note, [VerifierKey(name, public_key)])[0])
            except NoteError as exc:
                return bad(f"the checkpoint note at {cp.sequence} does not verify: {exc}")
            if body.origin != name:
                return bad(f"the checkpoint note at {cp.sequence} is of log {body.origin}")
            signatures = {
                base64.b64encode(sig.signature).decode() for sig in split_note(cp.note)[1]
            }
            if cp.signature not in signatures:
                return bad(f"the signature of the checkpoint at {cp.sequence} is not its note's")
            stated = (body.tree_size, body.chain_head, body.root_hash.hex(), body.time)
            if stated != (cp.sequence, cp.hash, cp.root_hash, cp.created_at or body.time):
                return bad(
                    f"the checkpoint row at {cp.sequence} differs from its signed note "
                    f"(size {body.tree_size}, time {body.time})"
                )
            continue
        try:
            signature = base64.b64decode(cp.signature, validate=True)
            public_key.verify(signature, checkpoint_message(cp.sequence, cp.hash))
        except (InvalidSignature, binascii.Error, ValueError):
            return bad(f"the signature of the checkpoint at {cp.sequence} does not verify")
    return None


def check_timestamps(
    stamped: Sequence[tuple[Any, str, bytes, str]], roots: Sequence[bytes], tolerance: float
) -> Break | None:
    """The first checkpoint whose RFC 3161 token fails, or dates it away from its own time.

    ``stamped`` holds (checkpoint body, signed note, token, where it comes from). The token
    must be signed by an authority under ``roots`` over exactly that note, and the time the
    authority states must agree with the note's signed time within ``tolerance``: a log
    rewritten today and re-signed with back-dated times gets today's date from the authority.
    """
    if not stamped or not roots:
        return None
    from audit.timestamping import TimestampError, verify_timestamp

    for body, note, token, label in sorted(stamped, key=lambda s: s[0].tree_size):
        size = body.tree_size
        try:
            stated = verify_timestamp(token, note.encode(), list(roots))
        except TimestampError as exc:
            return Break(
                size,
                Problem.BAD_TIMESTAMP,
                f"the timestamp token of the checkpoint at {size} ({label}) does not hold: {exc}",
            )
        signed = datetime.fromisoformat(body.time)
        if abs((stated - signed).total_seconds()) > tolerance:
            return Break(
                size,
                Problem.BAD_TIMESTAMP,
                f"the timestamp authority saw the checkpoint at {size} ({label}) at "
                f"{stated.isoformat()}, but the checkpoint says it was signed at {body.time}: "
                "it was signed later and back-dated, or the server's clock was wrong",
            )
    return None


def _seconds_between(earlier: str, later: str) -> float:
    """How many seconds ``later`` is after ``earlier`` (negative: before), canonical stamps."""
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def walk(
    entries: Iterable[Entry] | Iterable[tuple[Any, ...]],
    *,
    checkpoints: Sequence[Checkpoint] = (),
    held: Sequence[Checkpoint] = (),
    lookup: Lookup | None = None,
    start_sequence: int = 1,
    start_hash: str = GENESIS_HASH,
    start_frontier: Frontier | None = None,
    recorded_head: int | None = None,
    payload_text: bool = False,
    canonical_text: bool = True,
    clock_tolerance: float | None = None,
) -> Outcome:
    """Recompute every hash and link from ``start_sequence``; stop at the first break.

    With ``payload_text`` each entry's payload is the JSON text as stored. The entry's hash
    is first tried over that text spliced in as is (``canonical.stored_text_bytes``, inlined
    here: no parse, no dump — right whenever the text is canonical, as ``record_event``
    writes it); only when that does not match is the payload parsed and re-encoded
    canonically, and the canonical hash decides. Any change to a stored field changes the
    spliced bytes, so it falls through to the canonical check: text that is merely spelt
    differently (whitespace, key order, escapes) but means the same verifies, as the hash is
    defined over the canonical form; anything else is a break. With ``canonical_text=False``
    (storage that never keeps the text it was given, as PostgreSQL's ``jsonb``) the first try
    is skipped: every payload is parsed and re-encoded at once.

    ``checkpoints`` must already have valid signatures (see :func:`check_signatures`);
    ``held`` are checkpoints kept outside (an auditor's file, verified with the key in that
    file): the chain must pass through each of them — same head hash and Merkle root at the
    same size — however consistent it is in itself. The Merkle root is recomputed on the way
    from sequence 1 (or from ``start_frontier``). ``recorded_head`` is the sequence the head
    row claims; a chain shorter than that was truncated even where no checkpoint covers the
    tail. With ``clock_tolerance`` (seconds), time may not run backwards by more than that,
    from event to event nor across a checkpoint's signed time.
    """
    lookup = lookup or NoLookup()
    anchors = sorted(
        (cp for cp in (*checkpoints, *held) if cp.sequence >= start_sequence),
        key=lambda c: (c.sequence, bool(c.label)),
    )
    anchor_index = 0
    next_anchor = anchors[0].sequence if anchors else -1
    signed_seen = 0
    trusted_until = start_sequence - 1  # the last sequence a checkpoint vouched for
    expected = start_sequence
    prev = start_hash
    sha256 = hashlib.sha256
    # The Merkle root is recomputed only when a checkpoint states one (or the caller wants
    # the frontier back, as checkpoint creation does): two more hashes an entry.
    wants_root = any(a.root_hash for a in anchors)
    frontier = start_frontier or (Frontier() if start_sequence == 1 and wants_root else None)
    # The frontier's append, inlined for the hot loop: its list is mutated in place and its
    # size written back before anyone reads it.
    stack = frontier.hashes if frontier is not None else None
    fsize = frontier.size if frontier is not None else 0
    unhex = bytes.fromhex
    latest_time = ""  # the latest time seen so far: an event's or a checkpoint's
    latest_time_at = ""  # what it was, for messages

    def outcome(broken: Break | None) -> Outcome:
        if frontier is not None:
            frontier.size = fsize
        return Outcome(
            entries=expected - start_sequence,
            first_sequence=start_sequence,
            last_sequence=expected - 1,
            last_hash=prev,
            checkpoints=signed_seen,
            broken=broken,
            held=sum(1 for a in anchors[:anchor_index] if a.label),
        )

    def backwards(time: str, what: str) -> Break | None:
        """A break when ``time`` lies further before the latest time than the tolerance."""
        if clock_tolerance is None or not latest_time or time >= latest_time:
            return None
        behind = _seconds_between(time, latest_time)
        if behind <= clock_tolerance:
            return None
        return Break(
            expected,
            Problem.CLOCK,
            f"{what} is dated {time}, {behind:.0f} s before {latest_time_at} ({latest_time}); "
            f"the tolerance is {clock_tolerance:.0f} s: the clock was set back, or entries "
            "were back-dated",
        )

    spliced = event_text_bytes
    encode = encode_payload
    try_text_first = payload_text and canonical_text
    for entry in entries:
        sequence = entry[0]
        if sequence != expected:
            return outcome(_sequence_gap(_parsed(entry, payload_text), expected))
        if try_text_first:
            digest = sha256(spliced(entry, entry[7])).hexdigest()
            if digest != entry[9]:  # not canonical text, or changed: the canonical check
                digest = sha256(spliced(entry, encode(parse_payload(entry[7])))).hexdigest()
        elif payload_text:
            digest = sha256(spliced(entry, encode(parse_payload(entry[7])))).hexdigest()
        else:
            digest = sha256(stored_event_bytes(*entry[:9])).hexdigest()
        if digest != entry[9] or entry[8] != prev:
            entry = _parsed(entry, payload_text)
            return outcome(_diagnose(entry, expected, prev, digest, lookup))
        occurred = entry[1]
        if occurred < latest_time:
            late = backwards(occurred, f"entry {sequence}")
            if late is not None:
                return outcome(late)
        else:
            latest_time, latest_time_at = occurred, f"entry {sequence}"
        if stack is not None:
            node = sha256(b"\x00" + unhex(digest)).digest()
            carry = fsize
            while carry & 1:
                node = sha256(b"\x01" + stack.pop() + node).digest()
                carry >>= 1
            stack.append(node)
            fsize += 1
        while sequence == next_anchor:
            if frontier is not None:
                frontier.size = fsize
            cp = anchors[anchor_index]
            broken = _check_anchor(cp, digest, frontier, trusted_until)
            if broken is None and cp.created_at:
                where = f"the checkpoint at {sequence}" + (
                    f" held in {cp.label}" if cp.label else ""
                )
                broken = backwards(cp.created_at, where)
                if broken is None and cp.created_at > latest_time:
                    latest_time, latest_time_at = cp.created_at, where
            if broken is not None:
                return outcome(broken)
            if not cp.label:
                trusted_until = sequence
                signed_seen += 1
            anchor_index += 1
            next_anchor = anchors[anchor_index].sequence if anchor_index < len(anchors) else -1
        prev = digest
        expected += 1

    last = expected - 1
    if anchor_index < len(anchors):
        cp = anchors[anchor_index]
        who = f"a checkpoint held in {cp.label}" if cp.label else "a signed checkpoint"
        return outcome(
            Break(
                expected,
                Problem.CONTRADICTS_HELD if cp.label else Problem.TRUNCATED,
                f"the chain ends at {last} but {who} vouches for {cp.sequence} entries: "
                f"entries {expected}..{cp.sequence} are gone",
            )
        )
    if recorded_head is not None and recorded_head > last:
        return outcome(
            Break(
                expected,
                Problem.TRUNCATED,
                f"the chain ends at {last} but the head row records {recorded_head} entries",
            )
        )
    return outcome(None)


def _parsed(row: Entry | tuple[Any, ...], payload_text: bool) -> Entry:
    """The row as an :class:`Entry` with its payload parsed, for the diagnosis of a break."""
    if payload_text:
        return Entry._make((*row[:7], parse_payload(row[7]), *row[8:]))
    return Entry._make(row)


def _check_anchor(
    cp: Checkpoint, digest: str, frontier: Frontier | None, trusted_until: int
) -> Break | None:
    """Does the chain, as recomputed up to ``cp.sequence``, pass through this checkpoint?"""
    root = frontier.root().hex() if frontier is not None and cp.root_hash else ""
    if cp.hash == digest and root == (cp.root_hash if root else ""):
        return None
    what = "head hash" if cp.hash != digest else "Merkle root"
    if cp.label:
        return Break(
            cp.sequence,
            Problem.CONTRADICTS_HELD,
            f"the chain contradicts the checkpoint at {cp.sequence} signed {cp.created_at} "
            f"held in {cp.label}: its {what} there is "
            f"{(digest if what == 'head hash' else root)[:16]}…, the checkpoint says "
            f"{(cp.hash if what == 'head hash' else cp.root_hash)[:16]}…; the log was "
            "rewritten after that checkpoint left the server",
        )
    return Break(
        trusted_until + 1,
        Problem.REWRITTEN,
        f"the chain is consistent but its {what} at {cp.sequence} differs from the signed "
        f"checkpoint: entries {trusted_until + 1}..{cp.sequence} were rewritten without the "
        "signing key",
    )


def _sequence_gap(entry: Entry, expected: int) -> Break:
    if entry.sequence > expected:
        return Break(
            expected,
            Problem.MISSING,
            f"entries {expected}..{entry.sequence - 1} are missing; the next entry is "
            f"{entry.sequence}",
        )
    return Break(entry.sequence, Problem.INSERTED, "a second entry with this sequence number")


def _diagnose(entry: Entry, expected: int, prev: str, digest: str, lookup: Lookup) -> Break:
    """Say what is wrong with the entry at ``expected``, the first one that fails."""
    if digest == entry.hash:
        # Self-consistent, but it does not point at the entry before it.
        owner = lookup.by_hash(entry.prev_hash)
        if owner is None and expected > 1:
            return Break(
                expected - 1,
                Problem.MODIFIED,
                f"entry {expected - 1} was changed and re-hashed: entry {expected} still "
                "points at its original hash",
            )
        if owner is None:
            return Break(expected, Problem.MODIFIED, "the first entry does not start the chain")
        return Break(
            expected,
            Problem.REORDERED,
            f"entry {expected} follows entry {owner.sequence}, not entry {expected - 1}",
        )

    original = _original_sequence(entry, expected, lookup)
    if original is None:
        return Break(expected, Problem.MODIFIED, "its content does not match its hash")
    if original < expected:
        moved = expected - original
        return Break(
            original,
            Problem.INSERTED,
            f"{moved} foreign entr{'y' if moved == 1 else 'ies'} at {original}..{expected - 1}: "
            f"the original entry {original} now sits at {expected}",
        )
    elsewhere = [e for e in lookup.by_prev_hash(prev) if e.sequence != expected]
    if elsewhere:
        return Break(
            expected,
            Problem.REORDERED,
            f"the entry at {expected} is the original entry {original}; the original entry "
            f"{expected} sits at {elsewhere[0].sequence}",
        )
    return Break(
        expected,
        Problem.MISSING,
        f"the original entries {expected}..{original - 1} are missing (deleted) and later "
        "entries were renumbered",
    )


def _original_sequence(entry: Entry, expected: int, lookup: Lookup) -> int | None:
    """The sequence number this entry's hash was computed for, if it can be found."""
    candidates: list[int] = []
    predecessor = lookup.by_hash(entry.prev_hash)
    if predecessor is not None:
        candidates.append(predecessor.sequence + 1)
        if predecessor.computed_hash() != predecessor.hash:
            candidates.extend(
                s + 1
                for s in _window(predecessor.sequence)
                if predecessor.computed_hash(s) == predecessor.hash
            )
    candidates.extend(_window(expected))
    for candidate in candidates:
        if candidate != entry.sequence and entry.computed_hash(candidate) == entry.hash:
            return candidate
    return None


def _window(around: int) -> Iterator[int]:
    """``around`` first, then outwards: the nearest candidates are the likeliest."""
    for distance in range(1, DIAGNOSIS_WINDOW + 1):
        yield around + distance
        if around - distance >= 1:
            yield around - distance
