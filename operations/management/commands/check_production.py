"""``manage.py check_production``: `make run-prod` refuses to start on unsafe settings.

Refuses DEBUG, a missing key (field encryption, blind index, audit signing), a key that
does not open the stored data or match the stored indexes, a weak blind-index key, the demo
users, the demo password under any name and the demo one-time code secret, key or
database files, payout or export folders and files others may read, and (PostgreSQL) a
database role that could change the schema or the audit log and the ledger, or lacks the
grants on a table (``make migrate-prod`` applies them).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.production_checks import production_problems


class Command(BaseCommand):
    help = (
        "Refuse to start production with DEBUG, missing or wrong keys, demo users or "
        "passwords, key, database, payout or export files others may read, or a database "
        "role that could change the schema or rewrite history (make migrate-prod)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = production_problems()
        if problems:
            raise CommandError(
                "Refusing to start in production:\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        self.stdout.write("Production settings: safe to start.")
