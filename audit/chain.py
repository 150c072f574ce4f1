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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from audit.canonical import GENESIS_HASH, checkpoint_message, stored_event_bytes

#: How far around a displaced entry the diagnosis looks for its original sequence number.
DIAGNOSIS_WINDOW = 256


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
    """A signed statement: the chain had ``sequence`` entries and its head was ``hash``."""

    sequence: int
    hash: str
    signature: str  # base64 of the 64-byte Ed25519 signature
    key_fingerprint: str
    created_at: str = ""


class Problem(enum.StrEnum):
    MODIFIED = "modified"
    MISSING = "missing (deleted)"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad checkpoint signature"
    REWRITTEN = "rewritten"


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

    @property
    def ok(self) -> bool:
        return self.broken is None

    def line(self) -> str:
        if self.broken is not None:
            return self.broken.line()
        if not self.entries:
            return f"audit chain intact: empty, {self.checkpoints} checkpoints"
        return (
            f"audit chain intact: {self.entries} entries ({self.first_sequence}..."
            f"{self.last_sequence}), head {self.last_hash[:16]}…, "
            f"{self.checkpoints} signed checkpoints verified"
        )


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


def check_signatures(checkpoints: Sequence[Checkpoint], public_key: Any) -> Break | None:
    """The lowest checkpoint whose signature does not verify with ``public_key``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    expected_fp = key_fingerprint(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    for cp in sorted(checkpoints, key=lambda c: c.sequence):
        if cp.key_fingerprint != expected_fp:
            return Break(
                cp.sequence,
                Problem.BAD_SIGNATURE,
                f"checkpoint at {cp.sequence} names key {cp.key_fingerprint[:16]}…, "
                f"not the configured public key {expected_fp[:16]}…",
            )
        try:
            signature = base64.b64decode(cp.signature, validate=True)
            public_key.verify(signature, checkpoint_message(cp.sequence, cp.hash))
        except (InvalidSignature, binascii.Error, ValueError):
            return Break(
                cp.sequence,
                Problem.BAD_SIGNATURE,
                f"the signature of the checkpoint at {cp.sequence} does not verify",
            )
    return None


def walk(
    entries: Iterable[Entry] | Iterable[tuple[Any, ...]],
    *,
    checkpoints: Sequence[Checkpoint] = (),
    lookup: Lookup | None = None,
    start_sequence: int = 1,
    start_hash: str = GENESIS_HASH,
    recorded_head: int | None = None,
) -> Outcome:
    """Recompute every hash and link from ``start_sequence``; stop at the first break.

    ``checkpoints`` must already have valid signatures (see :func:`check_signatures`).
    ``recorded_head`` is the sequence the head row claims; a chain shorter than that was
    truncated even where no checkpoint covers the tail.
    """
    lookup = lookup or NoLookup()
    pending = sorted(
        (cp for cp in checkpoints if cp.sequence >= start_sequence), key=lambda c: c.sequence
    )
    cp_index = 0
    next_cp = pending[0].sequence if pending else -1
    trusted_until = start_sequence - 1  # the last sequence a checkpoint vouched for
    expected = start_sequence
    prev = start_hash
    sha256 = hashlib.sha256

    def outcome(broken: Break | None) -> Outcome:
        return Outcome(
            entries=expected - start_sequence,
            first_sequence=start_sequence,
            last_sequence=expected - 1,
            last_hash=prev,
            checkpoints=cp_index,
            broken=broken,
        )

    for entry in entries:
        sequence = entry[0]
        if sequence != expected:
            return outcome(_sequence_gap(Entry._make(entry), expected))
        digest = sha256(stored_event_bytes(*entry[:9])).hexdigest()
        if digest != entry[9] or entry[8] != prev:
            return outcome(_diagnose(Entry._make(entry), expected, prev, digest, lookup))
        if sequence == next_cp:
            cp = pending[cp_index]
            if cp.hash != digest:
                return outcome(
                    Break(
                        trusted_until + 1,
                        Problem.REWRITTEN,
                        f"the chain is consistent but its hash at {sequence} differs from the "
                        f"signed checkpoint: entries {trusted_until + 1}..{sequence} were "
                        "rewritten without the signing key",
                    )
                )
            trusted_until = sequence
            cp_index += 1
            next_cp = pending[cp_index].sequence if cp_index < len(pending) else -1
        prev = digest
        expected += 1

    last = expected - 1
    if cp_index < len(pending):
        cp = pending[cp_index]
        return outcome(
            Break(
                expected,
                Problem.TRUNCATED,
                f"the chain ends at {last} but a signed checkpoint vouches for "
                f"{cp.sequence} entries: entries {expected}..{cp.sequence} are gone",
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
