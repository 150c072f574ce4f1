"""Offline check of a proof file against the checkpoints an auditor keeps.

    python -m audit.proof PROOF.json --against CHECKPOINTS.txt

Needs only the standard library and ``cryptography`` (no Django, no database). The key in
the auditors' checkpoint file is the trusted one: a proof whose note another key signed is
refused, and a note that contradicts a checkpoint the auditor holds at the same size (a
rewritten log, re-signed with the server's key) is named. Exit status 0 with a one-line
summary, 1 naming what failed, 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.chain import Entry
from audit.checkpoint_file import HeldCheckpoint, read_held_checkpoints
from audit.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from audit.note import CheckpointBody, NoteError, VerifierKey, open_note

INCLUSION = "fundflow-audit-inclusion/v1"
CONSISTENCY = "fundflow-audit-consistency/v1"
NOT_HELD = "; you do not hold that checkpoint: ask for a consistency proof from your latest one"


class Unreadable(ValueError):
    """The proof file is not one this verifier understands (exit 2)."""


class Failed(ValueError):
    """The proof does not show what it claims (exit 1)."""


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _hashes(document: dict[str, Any]) -> list[bytes]:
    try:
        return [base64.b64decode(h, validate=True) for h in document["proof"]]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise Unreadable("the proof's hashes are not a list of base64 strings") from exc


def _opened(note: Any, vkey: VerifierKey, which: str) -> CheckpointBody:
    if not isinstance(note, str):
        raise Unreadable(f"the {which} has no signed note")
    try:
        body = CheckpointBody.parse(open_note(note, [vkey])[0])
    except NoteError as exc:
        raise Failed(f"the {which} is not signed by the key in your file: {exc}") from exc
    if body.origin != vkey.name:
        raise Failed(f"the {which} is of log {body.origin}, not {vkey.name}")
    return body


def _agrees(body: CheckpointBody, held: Sequence[HeldCheckpoint], which: str) -> bool:
    """Whether the auditor holds this checkpoint; raise if they hold another at its size."""
    for kept in held:
        if kept.body.tree_size != body.tree_size:
            continue
        if (kept.body.root_hash, kept.body.chain_head) != (body.root_hash, body.chain_head):
            raise Failed(
                f"the {which} ({_count(body.tree_size)} events, signed at {body.time}) "
                f"contradicts the checkpoint you hold from {kept.source} (signed at "
                f"{kept.body.time}): the log was rewritten after that checkpoint"
            )
        return True
    return False


def _entry(document: dict[str, Any]) -> Entry:
    event = document.get("event")
    try:
        entry = Entry(**{field: event[field] for field in Entry._fields})  # type: ignore[index]
    except (KeyError, TypeError) as exc:
        raise Unreadable(f"the proof's event is incomplete ({exc})") from exc
    texts = (entry.occurred_at, entry.actor_role, entry.action, entry.object_type)
    if (
        type(entry.sequence) is not int
        or entry.sequence < 1
        or not (entry.actor_id is None or type(entry.actor_id) is int)
        or not all(isinstance(t, str) for t in (*texts, entry.object_ref, entry.prev_hash))
        or not (isinstance(entry.hash, str) and re.fullmatch(r"[0-9a-f]{64}", entry.hash))
    ):
        raise Unreadable("the proof's event has a field of the wrong type")
    try:
        entry.computed_hash()
    except (TypeError, ValueError) as exc:
        raise Unreadable(f"the proof's event cannot be hashed ({exc})") from exc
    return entry


def check_inclusion(
    document: dict[str, Any], vkey: VerifierKey, held: Sequence[HeldCheckpoint]
) -> str:
    body = _opened(document.get("checkpoint"), vkey, "proof's checkpoint")
    entry = _entry(document)
    if entry.computed_hash() != entry.hash:
        raise Failed(f"event {entry.sequence}'s content does not match its hash: it was changed")
    index, size = document.get("leaf_index"), document.get("tree_size")
    if index != entry.sequence - 1 or size != body.tree_size:
        raise Failed(
            f"the proof is for position {index} of {size} events, but event {entry.sequence} "
            f"sits at {entry.sequence - 1} and the checkpoint signed {body.tree_size} events"
        )
    try:
        verify_inclusion(leaf_hash(entry.hash), index, size, _hashes(document), body.root_hash)
    except ProofError as exc:
        raise Failed(
            f"event {entry.sequence} is not in the log of {_count(size)} events signed at "
            f"{body.time}: {exc}"
        ) from exc
    held_note = "" if _agrees(body, held, "proof's checkpoint") else NOT_HELD
    covering = [k.body.tree_size for k in held if k.body.tree_size >= entry.sequence]
    if held_note and covering:
        # A checkpoint the auditor does not hold proves nothing the held one cannot: the
        # insider's log, rewritten and re-signed, has fresh checkpoints of its own.
        raise Failed(
            f"event {entry.sequence} is not proven: the proof is against a log of "
            f"{_count(size)} events signed at {body.time}, a checkpoint you do not hold, while "
            "you hold one that covers the event: ask for the proof against yours (manage.py "
            f"audit_proof "
            f"--event {entry.sequence} --checkpoint {min(covering)})"
        )
    return (
        f"event {entry.sequence} ({entry.action}, {entry.object_ref}) is in the log of "
        f"{_count(size)} events signed at {body.time}{held_note}"
    )


def check_consistency(
    document: dict[str, Any], vkey: VerifierKey, held: Sequence[HeldCheckpoint]
) -> str:
    try:
        old_note, new_note = document["old"]["checkpoint"], document["new"]["checkpoint"]
    except (KeyError, TypeError) as exc:
        raise Unreadable("the proof names no old and new checkpoint") from exc
    old = _opened(old_note, vkey, "old checkpoint")
    new = _opened(new_note, vkey, "new checkpoint")
    try:
        verify_consistency(
            old.tree_size, new.tree_size, old.root_hash, new.root_hash, _hashes(document)
        )
    except ProofError as exc:
        raise Failed(
            f"the log of {_count(new.tree_size)} events (signed at {new.time}) does not extend "
            f"the log of {_count(old.tree_size)} events (signed at {old.time}): {exc}"
        ) from exc
    kept = [_agrees(old, held, "old checkpoint"), _agrees(new, held, "new checkpoint")]
    return (
        f"the log of {_count(new.tree_size)} events signed at {new.time} extends the log of "
        f"{_count(old.tree_size)} events signed at {old.time} unchanged"
        + ("" if any(kept) else "; you hold neither checkpoint")
    )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    line: str


def check(proof: Path, against: Sequence[Path]) -> Verdict:
    """Raises :class:`Unreadable` or ``OSError`` for files that cannot be read."""
    try:
        document = json.loads(proof.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise Unreadable(f"{proof} is not JSON ({exc.msg})") from exc
    if not isinstance(document, dict):
        raise Unreadable(f"{proof} is not a proof file")
    vkey: VerifierKey | None = None
    held: list[HeldCheckpoint] = []
    for path in against:
        try:
            key, kept = read_held_checkpoints(path)
        except NoteError as exc:
            raise Unreadable(f"{path}: {exc}") from exc
        if vkey is not None and key != vkey:
            raise Unreadable(f"{path} trusts another key than {against[0]}")
        vkey = key
        held.extend(kept)
    if vkey is None:
        raise Unreadable("no checkpoint file to check against")
    kind = document.get("type")
    try:
        if kind == INCLUSION:
            return Verdict(True, check_inclusion(document, vkey, held))
        if kind == CONSISTENCY:
            return Verdict(True, check_consistency(document, vkey, held))
    except Failed as exc:
        return Verdict(False, f"proof FAILED: {exc}")
    raise Unreadable(f"{proof} is not a {INCLUSION} or {CONSISTENCY} file")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.proof",
        description="Check a Fundflow audit proof against the checkpoints you keep.",
    )
    parser.add_argument("proof", type=Path, help="the .json file from manage.py audit_proof")
    parser.add_argument(
        "--against",
        type=Path,
        nargs="+",
        required=True,
        metavar="CHECKPOINTS",
        help="your checkpoint file(s) (fundflow-audit-checkpoints/v1); its key is trusted",
    )
    args = parser.parse_args(argv)
    try:
        verdict = check(args.proof, args.against)
    except (OSError, UnicodeDecodeError, Unreadable) as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 2
    print(verdict.line)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
