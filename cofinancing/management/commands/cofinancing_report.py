"""``manage.py cofinancing_report --project CODE --from … --to … --format xlsx|csv --output F``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.cli import actor_for, parse_date
from cofinancing.report_files import WRITERS
from cofinancing.services import export_report, get_project
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "The financial report of a co-financed project, with its time-sheet appendix."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument("--format", dest="fmt", required=True, choices=sorted(WRITERS))
        parser.add_argument("--output", required=True)
        parser.add_argument("--draft", action="store_true", help="write it despite errors")
        parser.add_argument("--user", help="username of the treasurer/auditor reporting")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = export_report(
                options["output"],
                project=get_project(options["project"]),
                date_from=parse_date(options["date_from"]),  # type: ignore[arg-type]
                date_to=parse_date(options["date_to"]),  # type: ignore[arg-type]
                fmt=options["fmt"],
                actor=actor_for(options["user"]),
                draft=options["draft"],
            )
        except WorkflowError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        for finding in report.findings:
            self.stderr.write(f"{finding.severity}: {finding.message}")
        self.stdout.write(_("Report written to %(o)s.") % {"o": options["output"]})
