"""The exported trail format (JSON Lines), read and written without Django.

One JSON object per line, each with a ``type``:

``trail``       the first line: format, scope (``full`` or ``application``), the application
                reference for a partial trail, the export time and what the trail proves;
``checkpoint``  every signed checkpoint: sequence, hash, created_at, signature,
                key_fingerprint, and (second format) the signed note and Merkle root;
``event``       one audit event: every hashed field plus its ``hash``, in sequence order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from audit.chain import Checkpoint, Entry

FORMAT = "fundflow-audit-trail/v1"

FULL_STATEMENT = (
    "Full trail: every entry of the chain from sequence 1 with every signed checkpoint. "
    "Recomputing it proves each entry's content, their order and completeness up to the "
    "latest checkpoint that verifies with the foundation's public key."
)
PARTIAL_STATEMENT = (
    "Partial trail for one application: its entries (and its beneficiary's, by pseudonymous "
    "reference) in full, each with its hash and prev_hash, and every signed checkpoint. "
    "Verifying it proves that each exported entry is unaltered as hashed at the time it was "
    "recorded, and that adjacent entries link. It does not prove on its own that no entry "
    "of this application is missing: for that, verify the full trail (which holds no "
    "personal values either) and find these hashes in it."
)


def dump_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def entry_line(entry: Entry) -> str:
    return dump_line({"type": "event", **entry._asdict()})


def checkpoint_line(cp: Checkpoint) -> str:
    return dump_line(
        {
            "type": "checkpoint",
            "sequence": cp.sequence,
            "hash": cp.hash,
            "created_at": cp.created_at,
            "signature": cp.signature,
            "key_fingerprint": cp.key_fingerprint,
            "note": cp.note,
            "root_hash": cp.root_hash,
        }
    )


class TrailFormatError(ValueError):
    """The file is not a trail this verifier understands."""


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrailFormatError(f"line {number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict) or "type" not in record:
                raise TrailFormatError(f"line {number}: not a trail record")
            yield number, record


def read_header(path: Path) -> dict[str, Any]:
    for number, record in _records(path):
        if record["type"] != "trail" or record.get("format") != FORMAT:
            raise TrailFormatError(f"line {number}: expected a {FORMAT} header")
        return record
    raise TrailFormatError("empty file")


def read_checkpoints(path: Path) -> list[Checkpoint]:
    return [
        Checkpoint(
            sequence=int(r["sequence"]),
            hash=str(r["hash"]),
            signature=str(r["signature"]),
            key_fingerprint=str(r["key_fingerprint"]),
            created_at=str(r.get("created_at", "")),
            note=str(r.get("note", "")),
            root_hash=str(r.get("root_hash", "")),
        )
        for _, r in _records(path)
        if r["type"] == "checkpoint"
    ]


def read_entries(path: Path) -> Iterator[Entry]:
    """Events in file order, one line at a time."""
    for number, r in _records(path):
        if r["type"] != "event":
            continue
        try:
            yield Entry(
                sequence=int(r["sequence"]),
                occurred_at=str(r["occurred_at"]),
                actor_id=r["actor_id"],
                actor_role=r["actor_role"],
                action=r["action"],
                object_type=r["object_type"],
                object_ref=r["object_ref"],
                payload=r["payload"],
                prev_hash=r["prev_hash"],
                hash=r["hash"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TrailFormatError(f"line {number}: incomplete event ({exc})") from exc


def write_trail(
    out: TextIO,
    entries: Iterator[Entry],
    checkpoints: list[Checkpoint],
    *,
    exported_at: str,
    application: str | None = None,
) -> int:
    """Write header, checkpoints, then events; return the number of events written."""
    out.write(
        dump_line(
            {
                "type": "trail",
                "format": FORMAT,
                "scope": "application" if application else "full",
                "application": application,
                "exported_at": exported_at,
                "statement": PARTIAL_STATEMENT if application else FULL_STATEMENT,
            }
        )
    )
    for cp in checkpoints:
        out.write(checkpoint_line(cp))
    count = 0
    for entry in entries:
        out.write(entry_line(entry))
        count += 1
    return count
