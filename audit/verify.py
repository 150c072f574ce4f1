"""Offline verifier for an exported trail.

    python -m audit.verify trail.jsonl --against checkpoints.txt [more kept files…]
    python -m audit.verify trail.jsonl --public-key key.pem

Needs only the standard library and ``cryptography`` (no Django, no database): an auditor
runs it on their own machine. ``--against`` names checkpoint files the auditor kept (the
auditors' checkpoint files the foundation mailed or they downloaded): their key is the one
trusted, and the trail must pass through every checkpoint in them — a log rewritten and
re-signed on the server fails there, naming the checkpoint it contradicts. Exit status 0
when the trail is intact, 1 naming the first broken entry, 2 when the file or key cannot be
read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from audit.chain import (
    Break,
    Checkpoint,
    Entry,
    Outcome,
    Problem,
    check_signatures,
    check_timestamps,
    walk,
)
from audit.checkpoint_file import HeldCheckpoint, read_held_checkpoints
from audit.trail import TrailFormatError, read_checkpoints, read_entries, read_header

#: Seconds time may run backwards (the server's default AUDIT_CLOCK_TOLERANCE_SECONDS).
DEFAULT_CLOCK_TOLERANCE = 120.0


class FileLookup:
    """The diagnosis' point queries, answered by re-reading the file (only after a break)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def by_hash(self, digest: str) -> Entry | None:
        return next((e for e in read_entries(self.path) if e.hash == digest), None)

    def by_prev_hash(self, digest: str) -> list[Entry]:
        return [e for e in read_entries(self.path) if e.prev_hash == digest][:10]


def verify_full(
    path: Path,
    checkpoints: list[Checkpoint],
    public_key: object,
    *,
    held: Sequence[HeldCheckpoint] = (),
    origin: str | None = None,
    tsa_roots: Sequence[bytes] = (),
    clock_tolerance: float | None = DEFAULT_CLOCK_TOLERANCE,
) -> Outcome:
    bad = check_signatures(checkpoints, public_key, origin)
    trusted = [cp for cp in checkpoints if bad is None or cp.sequence < bad.sequence]
    outcome = walk(
        read_entries(path),
        checkpoints=trusted,
        held=[h.as_checkpoint() for h in held],
        lookup=FileLookup(path),
        clock_tolerance=clock_tolerance,
    )
    if bad is not None and (outcome.broken is None or bad.sequence <= outcome.broken.sequence):
        return replace(outcome, broken=bad)
    if outcome.broken is None and tsa_roots:
        stamped = [(h.body, h.note, h.token, h.source) for h in held if h.token]
        broken = check_timestamps(stamped, tsa_roots, clock_tolerance or 0)
        if broken is not None:
            return replace(outcome, broken=broken)
    return outcome


def verify_partial(
    path: Path,
    checkpoints: list[Checkpoint],
    public_key: object,
    *,
    held: Sequence[HeldCheckpoint] = (),
) -> str | Break:
    """Each entry's own hash, links between adjacent entries, checkpoints at exported entries.

    A kept checkpoint whose entry the partial trail does not hold cannot be checked: that is
    refused (``ValueError``, exit 2), never passed over — the header's scope is the server's
    to write, so an insider could otherwise relabel a rewritten full trail as partial.
    """
    bad = check_signatures(checkpoints, public_key)
    if bad is not None:
        return bad
    at_checkpoint: dict[int, list[Checkpoint]] = {}
    for cp in (*checkpoints, *(h.as_checkpoint() for h in held)):
        at_checkpoint.setdefault(cp.sequence, []).append(cp)
    count = links = anchored = 0
    previous: Entry | None = None
    unchecked = {h.body.tree_size for h in held}
    for entry in read_entries(path):
        unchecked.discard(entry.sequence)
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
        for cp in at_checkpoint.get(entry.sequence, ()):
            if cp.hash != entry.hash:
                where = (
                    f"the checkpoint held in {cp.label}" if cp.label else "the signed checkpoint"
                )
                return Break(
                    entry.sequence,
                    Problem.CONTRADICTS_HELD if cp.label else Problem.REWRITTEN,
                    f"it differs from {where}",
                )
            anchored += 1
        previous = entry
        count += 1
    if unchecked:
        raise ValueError(
            "this is a partial trail: it holds no entry at "
            f"{', '.join(map(str, sorted(unchecked)))}, "
            "where checkpoints you kept stand, so it cannot show that the log still passes "
            "through them. Ask for the full trail and verify it against your files."
        )
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
        "--public-key",
        type=Path,
        help="the foundation's Ed25519 public key (PEM); default: the key in the first "
        "--against file",
    )
    parser.add_argument(
        "--against",
        type=Path,
        nargs="+",
        default=[],
        metavar="FILE",
        help="checkpoint files you kept: the trail must pass through every checkpoint in them",
    )
    parser.add_argument(
        "--tsa-ca",
        type=Path,
        action="append",
        default=[],
        help="CA certificate (PEM) of the timestamp authority, to check the kept tokens",
    )
    parser.add_argument(
        "--clock-tolerance",
        type=float,
        default=DEFAULT_CLOCK_TOLERANCE,
        help="seconds time may run backwards between entries and checkpoints (default 120)",
    )
    args = parser.parse_args(argv)
    if args.public_key is None and not args.against:
        parser.error("give --against FILE (a kept checkpoint file) or --public-key PEM")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        held: list[HeldCheckpoint] = []
        keys = []
        for kept in args.against:
            vkey, checkpoints_kept = read_held_checkpoints(kept)
            keys.append(vkey)
            held.extend(checkpoints_kept)
        origin = keys[0].name if keys and args.public_key is None else None
        if args.public_key is not None:
            public_key = load_pem_public_key(args.public_key.read_bytes())
            if not isinstance(public_key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
        else:
            public_key = keys[0].key
        roots = [path.read_bytes() for path in args.tsa_ca]
        if any(h.token for h in held) and not roots:
            print(
                "note: the kept files hold timestamp tokens; give --tsa-ca to check them",
                file=sys.stderr,
            )
        header = read_header(args.trail)
        checkpoints = read_checkpoints(args.trail)
        if header.get("scope") == "application":
            result = verify_partial(args.trail, checkpoints, public_key, held=held)
            if isinstance(result, Break):
                print(result.line())
                return 1
            print(result)
            return 0
        outcome = verify_full(
            args.trail,
            checkpoints,
            public_key,
            held=held,
            origin=origin,
            tsa_roots=roots,
            clock_tolerance=args.clock_tolerance,
        )
    except (OSError, ValueError, TrailFormatError) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    print(outcome.line())
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
