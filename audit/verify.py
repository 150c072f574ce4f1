"""Offline verifier for an exported trail.

    python -m audit.verify trail.jsonl --public-key key.pem

Needs only the standard library and ``cryptography`` (no Django, no database): an auditor
runs it on their own machine. Exit status 0 when the trail is intact, 1 naming the first
broken entry, 2 when the file or key cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from audit.chain import Break, Checkpoint, Entry, Outcome, Problem, check_signatures, walk
from audit.trail import TrailFormatError, read_checkpoints, read_entries, read_header


class FileLookup:
    """The diagnosis' point queries, answered by re-reading the file (only after a break)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def by_hash(self, digest: str) -> Entry | None:
        return next((e for e in read_entries(self.path) if e.hash == digest), None)

    def by_prev_hash(self, digest: str) -> list[Entry]:
        return [e for e in read_entries(self.path) if e.prev_hash == digest][:10]


def verify_full(path: Path, checkpoints: list[Checkpoint], public_key: object) -> Outcome:
    bad = check_signatures(checkpoints, public_key)
    trusted = [cp for cp in checkpoints if bad is None or cp.sequence < bad.sequence]
    outcome = walk(read_entries(path), checkpoints=trusted, lookup=FileLookup(path))
    if bad is not None and (outcome.broken is None or bad.sequence <= outcome.broken.sequence):
        return replace(outcome, broken=bad)
    return outcome


def verify_partial(path: Path, checkpoints: list[Checkpoint], public_key: object) -> str | Break:
    """Each entry's own hash, links between adjacent entries, checkpoints at exported entries."""
    bad = check_signatures(checkpoints, public_key)
    if bad is not None:
        return bad
    at_checkpoint = {cp.sequence: cp for cp in checkpoints}
    count = links = anchored = 0
    previous: Entry | None = None
    for entry in read_entries(path):
        if previous is not None and entry.sequence <= previous.sequence:
            return Break(entry.sequence, Problem.REORDERED, "entries are not in sequence order")
        if entry.computed_hash() != entry.hash:
            return Break(entry.sequence, Problem.MODIFIED, "its content does not match its hash")
        if previous is not None and entry.sequence == previous.sequence + 1:
            if entry.prev_hash != previous.hash:
                return Break(
                    entry.sequence, Problem.MODIFIED, "it does not link to the entry before it"
                )
            links += 1
        cp = at_checkpoint.get(entry.sequence)
        if cp is not None:
            if cp.hash != entry.hash:
                return Break(
                    entry.sequence, Problem.REWRITTEN, "it differs from the signed checkpoint"
                )
            anchored += 1
        previous = entry
        count += 1
    return (
        f"partial trail intact: {count} entries each match their hash, {links} adjacent links "
        f"hold, {anchored} entries match a signed checkpoint ({len(checkpoints)} checkpoints "
        "verified). Completeness is not proven by a partial trail."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify", description="Verify an exported Fundflow audit trail."
    )
    parser.add_argument("trail", type=Path, help="the .jsonl file from manage.py audit_export")
    parser.add_argument(
        "--public-key", type=Path, required=True, help="the foundation's Ed25519 public key (PEM)"
    )
    args = parser.parse_args(argv)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        public_key = load_pem_public_key(args.public_key.read_bytes())
        if not isinstance(public_key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        header = read_header(args.trail)
        checkpoints = read_checkpoints(args.trail)
        if header.get("scope") == "application":
            result = verify_partial(args.trail, checkpoints, public_key)
            if isinstance(result, Break):
                print(result.line())
                return 1
            print(result)
            return 0
        outcome = verify_full(args.trail, checkpoints, public_key)
    except (OSError, ValueError, TrailFormatError) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    print(outcome.line())
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
