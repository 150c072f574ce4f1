"""``manage.py audit_proof --event SEQ [--checkpoint SEQ] --output F`` or
``--consistency OLD NEW --output F``: proof files an auditor checks offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditCheckpoint
from audit.proofs import consistency_document, inclusion_document


def _checkpoint(sequence: int | None) -> AuditCheckpoint:
    checkpoints = AuditCheckpoint.objects.exclude(note="")
    found = (
        checkpoints.order_by("-sequence").first()
        if sequence is None
        else checkpoints.filter(sequence=sequence).first()
    )
    if found is None:
        raise CommandError(
            "no signed checkpoint yet: run audit_checkpoint"
            if sequence is None
            else f"no signed checkpoint at sequence {sequence}"
        )
    return found


class Command(BaseCommand):
    help = (
        "Write a Merkle proof for auditors: that one event is in the log a checkpoint signed "
        "(--event), or that a later checkpoint extends an earlier one (--consistency). Check "
        "it offline: python -m audit.proof PROOF.json --against CHECKPOINTS.txt"
    )

    def add_arguments(self, parser: Any) -> None:
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--event", type=int, metavar="SEQ", help="the event's sequence")
        what.add_argument(
            "--consistency", type=int, nargs=2, metavar=("OLD", "NEW"), help="two checkpoints"
        )
        parser.add_argument(
            "--checkpoint", type=int, metavar="SEQ", help="for --event (default: the latest)"
        )
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["event"] is not None:
                checkpoint = _checkpoint(options["checkpoint"])
                document = inclusion_document(options["event"], checkpoint)
                summary = f"event {options['event']} in checkpoint {checkpoint.sequence}"
            else:
                old, new = (_checkpoint(s) for s in options["consistency"])
                document = consistency_document(old, new)
                summary = f"checkpoint {old.sequence} to checkpoint {new.sequence}"
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        output: Path = options["output"]
        output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        self.stdout.write(f"proof of {summary}: {len(document['proof'])} hashes, to {output}")
