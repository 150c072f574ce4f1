"""``manage.py retention_report``: who is due for erasure, and why the others are held."""

from typing import Any

from django.core.management.base import BaseCommand

from privacy.retention import retention_report


class Command(BaseCommand):
    help = "List people due for erasure and the hold that keeps the others."

    def handle(self, *args: Any, **options: Any) -> None:
        for row in retention_report():
            status = "DUE" if row.due else "held"
            until = row.hold_until.isoformat() if row.hold_until else "-"
            self.stdout.write(f"{row.beneficiary}\t{status}\t{until}\t{row.reason}")
