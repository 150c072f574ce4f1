"""``manage.py esf_income accrue --project CODE --to DATE --user U`` and
``manage.py esf_income receive --project CODE --amount X --date DATE --reference REF --user U``.

The year-end refuses a year whose ESF income is earned and not booked; these book it (the
same services as the co-financing page) without a Python shell.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounting.exports.cli import actor_for, parse_date
from cofinancing.esf_income import accrue_esf_income, receive_esf_payment
from cofinancing.selectors import voucher_summary
from cofinancing.services import get_project
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Book ESF income: accrue what the eligible costs earned, or money received."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        accrue = actions.add_parser("accrue", help="accrue the income earned up to a date")
        accrue.add_argument("--to", dest="up_to", required=True, help="YYYY-MM-DD")
        receive = actions.add_parser("receive", help="book money received from the co-financier")
        receive.add_argument("--amount", required=True, help="SEK received")
        receive.add_argument("--date", required=True, help="date received, YYYY-MM-DD")
        receive.add_argument("--reference", required=True, help="the payment's reference code")
        for each in (accrue, receive):
            each.add_argument("--project", required=True)
            each.add_argument("--user", required=True, help="username of the treasurer")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            project = get_project(options["project"])
            actor = actor_for(options["user"])
            if options["action"] == "accrue":
                up_to = parse_date(options["up_to"])
                voucher = accrue_esf_income(project, actor=actor, up_to=up_to)  # type: ignore[arg-type]
                if voucher is None:
                    message = _(
                        "Nothing to book: the ESF income of project %(p)s is booked up to %(d)s."
                    ) % {"p": project.code, "d": options["up_to"]}
                else:
                    message = _("ESF income of project %(p)s accrued up to %(d)s: %(v)s.") % {
                        "p": project.code,
                        "d": options["up_to"],
                        "v": voucher_summary(voucher),
                    }
            else:
                voucher = receive_esf_payment(
                    project,
                    actor=actor,
                    amount=options["amount"],
                    date=parse_date(options["date"]),  # type: ignore[arg-type]
                    reference=options["reference"],
                )
                message = _("Money received for project %(p)s booked: %(v)s.") % {
                    "p": project.code,
                    "v": voucher_summary(voucher),
                }
        except WorkflowError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(message)
