"""``manage.py year_end prepare|approve --year 2006 --user <treasurer>``: close a fiscal year.

One treasurer prepares (checks, restricted-funds transfers, result), a second approves
(books series E and locks the year); see ``accounting.year_end``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounting import year_end
from accounting.exports.cli import actor_for
from accounting.restricted_funds import restricted_funds
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Prepare (one treasurer) or approve (a second treasurer) the closing of a fiscal year."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("step", choices=["prepare", "approve"])
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--user", required=True, help="username of the treasurer")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_for(options["user"])
        step = (
            year_end.prepare_year_end if options["step"] == "prepare" else year_end.approve_year_end
        )
        try:
            fiscal_year = year_end.fiscal_year(options["year"])
            closing = step(fiscal_year, actor=actor)
        except WorkflowError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(
            _(
                "Restricted funds: fund account: opening + additions + gifts - used = closing "
                "(transfer)"
            )
        )
        for row in restricted_funds(fiscal_year):
            self.stdout.write(
                f"{row.fund.code} {row.account}: {row.opening} + {row.additions} + {row.gifts} "
                f"- {row.used} = {row.closing} ({row.transfer:+})"
            )
        if closing.is_locked:
            self.stdout.write(_("%(year)s is closed and locked.") % {"year": options["year"]})
        else:
            self.stdout.write(
                _("%(year)s is prepared; a second treasurer approves it.")
                % {"year": options["year"]}
            )
