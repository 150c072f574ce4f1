"""``manage.py check_production``: `make run-prod` refuses to start on unsafe settings.

Refuses DEBUG, a missing key (field encryption, blind index, audit signing), the demo users
and the demo one-time code secret, and key or database files others may read.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from config.production_checks import production_problems


class Command(BaseCommand):
    help = "Refuse to start production with DEBUG, missing keys, demo users or open key files."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = production_problems()
        if problems:
            raise CommandError(
                "Refusing to start in production:\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        self.stdout.write("Production settings: safe to start.")
