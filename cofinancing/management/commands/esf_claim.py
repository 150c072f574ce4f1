"""``manage.py esf_claim --project CODE --to DATE --amount X --submitted DATE --reference R``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.cli import actor_for, parse_date
from cofinancing.esf_claims import record_esf_claim
from cofinancing.services import get_project
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Record a payment claim (ansökan om utbetalning) submitted to the ESF co-financier."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument("--to", dest="period_to", required=True, help="period end")
        parser.add_argument("--amount", required=True, help="SEK claimed; negative corrects")
        parser.add_argument("--submitted", required=True, help="date submitted, YYYY-MM-DD")
        parser.add_argument("--reference", required=True, help="the claim's reference code")
        parser.add_argument("--user", required=True, help="username of the treasurer")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            claim = record_esf_claim(
                get_project(options["project"]),
                actor=actor_for(options["user"]),
                period_to=parse_date(options["period_to"]),  # type: ignore[arg-type]
                amount=options["amount"],
                submitted_on=parse_date(options["submitted"]),  # type: ignore[arg-type]
                reference=options["reference"],
            )
        except WorkflowError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(
            _("Claim %(n)s for %(f)s - %(t)s recorded: %(a)s.")
            % {
                "n": claim.number,
                "f": claim.period_from.isoformat(),
                "t": claim.period_to.isoformat(),
                "a": claim.amount.amount,
            }
        )
