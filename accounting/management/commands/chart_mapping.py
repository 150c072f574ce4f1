"""``manage.py chart_mapping [--apply --user <treasurer>]``: the accounts each role books on.

Lists every chart role with its BAS default, the account the books use (recorded) and the
one the settings map it to (``LEDGER_ACCOUNTS_JSON``). ``--apply`` records the settings as
the books' mapping, refused while an old account would strand what it holds; see
``accounting.chart.apply_mapping`` and docs/accounting.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounting import chart
from accounting.exports.cli import actor_for
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "List the chart roles and their accounts; --apply records the settings mapping."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="apply the settings mapping")
        parser.add_argument("--user", help="username of the treasurer (with --apply)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["apply"]:
            if not options["user"]:
                raise CommandError(_("--apply needs --user (a treasurer)."))
            try:
                changes = chart.apply_mapping(actor=actor_for(options["user"]))
            except WorkflowError as exc:
                raise CommandError("\n".join(exc.messages)) from exc
            for change in changes:
                self.stdout.write(
                    _("%(role)s: %(old)s -> %(new)s")
                    % {"role": change.role, "old": change.books, "new": change.settings}
                )
            if not changes:
                self.stdout.write(_("The books already use the settings mapping."))
        recorded = chart.recorded_mapping()
        self.stdout.write(_("role: BAS default, books, settings"))
        for role, default in chart.DEFAULTS.items():
            mark = "" if recorded[role] == chart.account(role) else "  " + _("(pending)")
            self.stdout.write(
                f"{role}: {default.number}, {recorded[role]}, {chart.account(role)}{mark}"
            )
