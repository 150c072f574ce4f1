"""``manage.py export_sie --year 2026 [--type 4|4i] [--preliminary] [--from … --to …] --output
ledger.se``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.cli import add_export_arguments, run_export
from accounting.exports.services import export_sie_file


class Command(BaseCommand):
    help = "Export the ledger as SIE 4 (with balances) or SIE 4I (vouchers only), CP437."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--type", dest="sie_type", default="4", choices=["4", "4i", "4I"])
        parser.add_argument(
            "--preliminary",
            action="store_true",
            help=(
                "mark the file preliminary; a year with open periods always is (balances "
                "and vouchers as of today)"
            ),
        )
        add_export_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        summary = run_export(
            export_sie_file,
            options,
            year=options["year"],
            sie_type=options["sie_type"],
            preliminary=options["preliminary"],
        )
        for warning in summary.warnings:
            self.stderr.write(warning)
        self.stdout.write(
            _("SIE %(t)s %(y)s: %(v)s vouchers, %(n)s transactions written to %(o)s.")
            % {
                "t": summary.sie_type,
                "y": summary.year,
                "v": summary.vouchers,
                "n": summary.transactions,
                "o": options["output"],
            }
        )
