"""``manage.py export_ledger --format csv|xlsx|jsonl [--from …] [--to …] --output FILE``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.cli import add_export_arguments, run_export
from accounting.exports.ledger import FORMATS
from accounting.exports.services import export_ledger_file


class Command(BaseCommand):
    help = "Export posting rows (no personal data) as CSV, XLSX or JSON Lines, streaming."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
        add_export_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        summary = run_export(export_ledger_file, options, fmt=options["fmt"])
        self.stdout.write(
            _("%(n)s postings written to %(o)s.") % {"n": summary.rows, "o": options["output"]}
        )
