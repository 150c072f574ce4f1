"""``manage.py insamling_ratios --year 2026``: the 90-konto ratios, flagged below 75 %."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.ratios import ADMINISTRATION, FUNDRAISING, PURPOSE, insamling_ratios


class Command(BaseCommand):
    help = "Purpose, fundraising and administration costs as shares of total income."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        ratios = insamling_ratios(options["year"])
        self.stdout.write(_("Total income: %(i)s SEK") % {"i": ratios.income})
        for function, label in (
            (PURPOSE, _("Purpose")),
            (FUNDRAISING, _("Fundraising")),
            (ADMINISTRATION, _("Administration")),
        ):
            percent = ratios.percent(function)
            self.stdout.write(
                f"{label}: {ratios.costs[function]} SEK"
                + (f" ({percent} %)" if percent is not None else "")
            )
        for flag in ratios.flags:
            self.stderr.write(flag)
