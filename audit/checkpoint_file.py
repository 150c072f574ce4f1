"""The auditors' checkpoint file: what an auditor downloads (or gets by mail) and keeps.

Plain text, readable without tools::

    fundflow-audit-checkpoints/v1
    vkey fundflow.example/audit+1a2b3c4d+AQ…
    fingerprint 3f5e…                  SHA-256 of the raw Ed25519 public key, hex

    <signed checkpoint note>

    timestamp <base64 DER RFC 3161 token over that note>   (when an authority stamped it)

    <signed checkpoint note>
    …

The verifier key in the file is the one the auditor trusts: notes are checked with it, never
with whatever key the server holds now, so a log re-signed under another key is refused and
a log rewritten under the same key contradicts the notes kept here. Free of Django.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.chain import Checkpoint
from audit.note import CheckpointBody, NoteError, VerifierKey, open_note, parse_notes

FORMAT = "fundflow-audit-checkpoints/v1"


@dataclass(frozen=True)
class HeldCheckpoint:
    """One checkpoint an auditor holds, its signature verified with the file's key."""

    body: CheckpointBody
    note: str
    source: str  # the file it came from, for messages
    token: bytes | None = None  # an RFC 3161 token over ``note``, if the file holds one
    key_fingerprint: str = ""  # of the file's verifier key

    def as_checkpoint(self) -> Checkpoint:
        """The shape the chain walk checks against, labelled with where it was kept."""
        return Checkpoint(
            sequence=self.body.tree_size,
            hash=self.body.chain_head,
            signature="",
            key_fingerprint=self.key_fingerprint,
            created_at=self.body.time,
            note=self.note,
            root_hash=self.body.root_hash.hex(),
            label=self.source,
        )


@dataclass(frozen=True)
class CheckpointFile:
    vkey: VerifierKey
    notes: list[str]
    tokens: dict[str, bytes]  # note -> its timestamp token


TIMESTAMP = "timestamp "


def write_checkpoint_file(
    vkey: VerifierKey, notes: Sequence[str], tokens: Mapping[str, str] | None = None
) -> str:
    """The file's text; ``tokens`` maps a note to its timestamp token (base64 DER)."""
    tokens = tokens or {}
    header = f"{FORMAT}\nvkey {vkey.encode()}\nfingerprint {vkey.fingerprint}\n\n"
    parts = []
    for note in notes:
        parts.append(note)
        if note in tokens:
            parts.append(f"{TIMESTAMP}{tokens[note]}\n")
    return header + "\n".join(parts)


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
    notes: list[str] = []
    tokens: dict[str, bytes] = {}
    blocks = []
    for line in rest.splitlines(keepends=True):
        if line.startswith(TIMESTAMP):
            blocks.append(line)
        elif blocks and not blocks[-1].startswith(TIMESTAMP):
            blocks[-1] += line
        else:
            blocks.append(line)
    for block in blocks:
        if block.startswith(TIMESTAMP):
            if not notes:
                raise NoteError("a timestamp line comes after the note it stamps")
            try:
                tokens[notes[-1]] = base64.b64decode(block[len(TIMESTAMP) :].strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise NoteError("a timestamp line holds base64") from exc
            continue
        notes.extend(parse_notes(block))
    return CheckpointFile(vkey, notes, tokens)


def read_held_checkpoints(path: Path) -> tuple[VerifierKey, list[HeldCheckpoint]]:
    """The file's key and its checkpoints, each signature verified with that key."""
    held = parse_checkpoint_file(path.read_text(encoding="utf-8"))
    checkpoints = []
    for note in held.notes:
        text, _ = open_note(note, [held.vkey])
        body = CheckpointBody.parse(text)
        if body.origin != held.vkey.name:
            raise NoteError(f"{path}: a checkpoint of log {body.origin}, not {held.vkey.name}")
        checkpoints.append(
            HeldCheckpoint(body, note, str(path), held.tokens.get(note), held.vkey.fingerprint)
        )
    return held.vkey, checkpoints
