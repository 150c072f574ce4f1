"""The auditors' checkpoint file: what an auditor downloads (or gets by mail) and keeps.

Plain text, readable without tools::

    fundflow-audit-checkpoints/v1
    vkey fundflow.example/audit+1a2b3c4d+AQ…
    fingerprint 3f5e…                  SHA-256 of the raw Ed25519 public key, hex

    <signed checkpoint note>

    <signed checkpoint note>
    …

The verifier key in the file is the one the auditor trusts: notes are checked with it, never
with whatever key the server holds now, so a log re-signed under another key is refused and
a log rewritten under the same key contradicts the notes kept here. Free of Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.note import CheckpointBody, NoteError, VerifierKey, open_note, parse_notes

FORMAT = "fundflow-audit-checkpoints/v1"


@dataclass(frozen=True)
class HeldCheckpoint:
    """One checkpoint an auditor holds, its signature verified with the file's key."""

    body: CheckpointBody
    note: str
    source: str  # the file it came from, for messages


@dataclass(frozen=True)
class CheckpointFile:
    vkey: VerifierKey
    notes: list[str]


def write_checkpoint_file(vkey: VerifierKey, notes: Sequence[str]) -> str:
    header = f"{FORMAT}\nvkey {vkey.encode()}\nfingerprint {vkey.fingerprint}\n\n"
    return header + "\n".join(notes)


def parse_checkpoint_file(text: str) -> CheckpointFile:
    head, sep, rest = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != FORMAT:
        raise NoteError(f"not a {FORMAT} file")
    fields = dict(line.partition(" ")[::2] for line in lines[1:])
    if "vkey" not in fields:
        raise NoteError("the file names no verifier key")
    vkey = VerifierKey.parse(fields["vkey"])
    if fields.get("fingerprint", vkey.fingerprint) != vkey.fingerprint:
        raise NoteError("the file's fingerprint does not match its verifier key")
    return CheckpointFile(vkey, parse_notes(rest))


def read_held_checkpoints(path: Path) -> tuple[VerifierKey, list[HeldCheckpoint]]:
    """The file's key and its checkpoints, each signature verified with that key."""
    held = parse_checkpoint_file(path.read_text(encoding="utf-8"))
    checkpoints = []
    for note in held.notes:
        text, _ = open_note(note, [held.vkey])
        body = CheckpointBody.parse(text)
        if body.origin != held.vkey.name:
            raise NoteError(f"{path}: a checkpoint of log {body.origin}, not {held.vkey.name}")
        checkpoints.append(HeldCheckpoint(body, note, str(path)))
    return held.vkey, checkpoints
