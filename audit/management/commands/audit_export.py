"""``manage.py audit_export --output trail.jsonl [--application A-…]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.exports import export_trail


class Command(BaseCommand):
    help = (
        "Export the audit trail as JSON Lines (events and signed checkpoints) for the offline "
        "verifier: python -m audit.verify trail.jsonl --public-key key.pem"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument(
            "--application", help="export only this application's entries (A-YYYY-NNNNNN)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        try:
            with output.open("w", encoding="utf-8") as handle:
                count = export_trail(handle, application=options["application"])
        except LookupError as exc:
            output.unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        scope = options["application"] or "the whole chain"
        self.stdout.write(f"exported {count} entries of {scope} to {output}")
