"""``manage.py import_time_sheets FILE [--format csv|xlsx] [--commit] [--user NAME]``.

A dry run unless ``--commit``; every bad row is listed, and nothing is imported while any
row is bad.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.cli import actor_for
from cofinancing.resources import FORMATS
from cofinancing.services import import_time_sheets
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Import time sheets (in-kind staff time) from CSV or XLSX: all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--format", dest="fmt", choices=FORMATS)
        parser.add_argument("--commit", action="store_true", help="import (default: dry run)")
        parser.add_argument("--user", help="username of the treasurer importing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = options["fmt"] or path.suffix.lstrip(".").lower()
        try:
            result = import_time_sheets(
                path.read_bytes(),
                format=fmt,
                actor=actor_for(options["user"]),
                dry_run=not options["commit"],
            )
        except (WorkflowError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if result.errors:
            lines = [
                _("Row %(row)s %(field)s: %(message)s")
                % {"row": e.row, "field": e.field, "message": e.message}
                for e in result.errors
            ]
            raise CommandError(
                "\n".join(
                    [_("Nothing imported: %(n)s errors.") % {"n": len(result.errors)}, *lines]
                )
            )
        if result.dry_run:
            self.stdout.write(
                _("Dry run: all %(n)s rows are valid; run with --commit to import them.")
                % {"n": result.rows}
            )
        else:
            self.stdout.write(_("%(n)s time sheet rows imported.") % {"n": result.imported})
