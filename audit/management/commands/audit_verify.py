"""``manage.py audit_verify [--against FILE…]``: recompute the chain, check every checkpoint.

With ``--against`` the chain must also pass through every checkpoint in the auditors' kept
files (verified with the key in those files, not the server's): a chain rewritten and
re-signed with the server's own key fails there, naming the checkpoint it contradicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoint_file import read_held_checkpoints
from audit.note import NoteError
from audit.verification import VerificationNotPossible, verify_and_record


class Command(BaseCommand):
    help = (
        "Verify the audit chain: exit 0 with a one-line summary when intact, exit 1 naming the "
        "first broken sequence number and what is wrong there. --against FILE… also checks "
        "the checkpoints auditors kept."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--against",
            nargs="+",
            type=Path,
            default=[],
            metavar="FILE",
            help="auditors' checkpoint files: the chain must pass through every checkpoint",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        held = []
        for path in options["against"]:
            try:
                held.extend(read_held_checkpoints(path)[1])
            except (OSError, UnicodeDecodeError, NoteError) as exc:
                raise CommandError(f"{path}: {exc}", returncode=2) from exc
        try:
            outcome = verify_and_record(held=held)
        except VerificationNotPossible as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if outcome.ok:
            self.stdout.write(outcome.line())
            return
        self.stderr.write(outcome.line())
        raise SystemExit(1)
