"""Proof files for auditors: one event is in the log, a later checkpoint extends an earlier one.

Built from the database, read-only (no audit event: nothing changes). The hashes are streamed
in sequence order, ``hash`` column only, so a proof over a million events holds a few dozen
hashes, never the log. An auditor checks a proof offline against the checkpoints they keep:
``python -m audit.proof PROOF.json --against CHECKPOINTS.txt`` (:mod:`audit.proof`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import Any

from audit.merkle import (
    Frontier,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    roots_of_ranges,
)
from audit.models import AuditCheckpoint, AuditEvent
from audit.note import CheckpointBody, NoteError, split_note
from audit.trail import entry_line
from audit.verification import as_entry, stored_rows

INCLUSION = "fundflow-audit-inclusion/v1"
CONSISTENCY = "fundflow-audit-consistency/v1"
CHUNK_SIZE = 5000


def _body(checkpoint: AuditCheckpoint) -> CheckpointBody:
    if not checkpoint.note:
        raise ValueError(
            f"checkpoint {checkpoint.sequence} is in the first format (no signed note, no "
            "Merkle root): proofs need a later checkpoint"
        )
    try:
        return CheckpointBody.parse(split_note(checkpoint.note)[0])
    except NoteError as exc:
        raise ValueError(f"checkpoint {checkpoint.sequence}'s note cannot be read: {exc}") from exc


def leaves(size: int) -> Iterator[bytes]:
    """Leaf hashes of events 1..size in order; a gap in the sequence is an error."""
    rows = (
        AuditEvent.objects.filter(sequence__lte=size)
        .order_by("sequence")
        .values_list("sequence", "hash")
    )
    expected = 1
    for sequence, digest in rows.iterator(chunk_size=CHUNK_SIZE):
        if sequence != expected:
            raise ValueError(f"event {expected} is missing from the log: run audit_verify")
        yield leaf_hash(digest)
        expected += 1


def _proof(
    body: CheckpointBody, ranges: Sequence[tuple[int, int]], earlier: CheckpointBody | None = None
) -> list[bytes]:
    """The ranges' roots over events 1..tree_size, checked against the checkpoint's root
    (and the earlier checkpoint's): a proof the log cannot back is refused here, plainly."""
    size = body.tree_size
    whole = Frontier()

    def counted() -> Iterator[bytes]:
        for leaf in leaves(size):
            whole.append(leaf)
            if earlier is not None and whole.size == earlier.tree_size:
                _check_root(whole, earlier)
            yield leaf

    stream = counted()
    proof = roots_of_ranges(stream, ranges)
    for _ in stream:  # the rest, for the whole tree's root
        pass
    if whole.size != size:
        raise ValueError(f"the log holds {whole.size} events, not the {size} its checkpoint signed")
    _check_root(whole, body)
    return proof


def _check_root(tree: Frontier, body: CheckpointBody) -> None:
    if tree.root() != body.root_hash:
        raise ValueError(
            f"events 1..{body.tree_size} no longer hash to the Merkle root checkpoint "
            f"{body.tree_size} signed: the log was changed after it was signed (run audit_verify)"
        )


def _encoded(proof: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in proof]


def inclusion_document(sequence: int, checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A proof that event ``sequence`` is in the log ``checkpoint`` signed."""
    body = _body(checkpoint)
    if not 1 <= sequence <= body.tree_size:
        raise ValueError(
            f"event {sequence} is not covered by checkpoint {checkpoint.sequence} "
            f"(events 1..{body.tree_size})"
        )
    row = next(stored_rows(AuditEvent.objects.filter(sequence=sequence)), None)
    if row is None:
        raise ValueError(f"event {sequence} is missing from the log: run audit_verify")
    event = json.loads(entry_line(as_entry(row)))
    del event["type"]
    proof = _proof(body, inclusion_ranges(sequence - 1, body.tree_size))
    return {
        "type": INCLUSION,
        "event": event,
        "leaf_index": sequence - 1,
        "tree_size": body.tree_size,
        "proof": _encoded(proof),
        "checkpoint": checkpoint.note,
    }


def consistency_document(old: AuditCheckpoint, new: AuditCheckpoint) -> dict[str, Any]:
    """A proof that the log ``new`` signed extends the log ``old`` signed, unchanged."""
    old_body, new_body = _body(old), _body(new)
    if not 0 < old_body.tree_size < new_body.tree_size:
        raise ValueError(
            f"checkpoint {old.sequence} is not older than checkpoint {new.sequence}: give the "
            "older one first"
        )
    ranges = consistency_ranges(old_body.tree_size, new_body.tree_size)
    proof = _proof(new_body, ranges, earlier=old_body)
    return {
        "type": CONSISTENCY,
        "old": {"tree_size": old_body.tree_size, "checkpoint": old.note},
        "new": {"tree_size": new_body.tree_size, "checkpoint": new.note},
        "proof": _encoded(proof),
    }


def consistency_proof_between_sizes(old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from the first ``old_size`` events to the first ``new_size``.

    For the signer process, whose witness holds the root it last signed and checks the new
    one against it: no checkpoint rows needed, and none trusted.
    """
    if old_size == new_size:
        return []
    return roots_of_ranges(leaves(new_size), consistency_ranges(old_size, new_size))
