"""Book the grants decided before grants were accrued: once, after upgrading (issue #16)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.commitments import accrue_open_commitments
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = (
        "Book each open commitment made before accrual as cost (grants_paid) and liability "
        "(grants_payable), one voucher per decision. Running it again books nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the treasurer booking the vouchers")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']}.")
        try:
            booked = accrue_open_commitments(actor=user)
        except WorkflowError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{booked} vouchers booked for grants decided before accrual.")
