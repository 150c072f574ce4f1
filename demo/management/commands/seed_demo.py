"""``manage.py seed_demo``: demo funds, users (password ``fundflow-demo``) and cases.

Runs only in the embedded demo mode (DEBUG on, as `make run` starts it): its users have a
public password and one-time code secret, which must never reach a real installation.
"""

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.seed import DEMO_PASSWORD, DEMO_USERS, seed
from fund.key_safety import blind_indexes_exist, rebuild_blind_indexes


class Command(BaseCommand):
    help = "Create demo funds, a user for every role and applications in every state."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED_MODE:
            raise CommandError(
                "seed_demo runs only in the embedded demo mode (DEBUG=1, as `make run` starts "
                "it): it creates users with a public password and one-time code secret. This "
                "installation runs with DEBUG off; nothing was created."
            )
        self._index_key_for_an_old_demo_database()
        seed(self.stdout.write)
        if apps.is_installed("web"):  # the web app's second factor for the demo staff users
            from web.demo import seed_devices

            seed_devices(self.stdout.write)
        self.stdout.write(
            f"Demo users (password {DEMO_PASSWORD!r}, demo only): {', '.join(DEMO_USERS)}"
        )

    def _index_key_for_an_old_demo_database(self) -> None:
        """A demo database from before the index had its own key: recompute its indexes.

        Their key was the public SECRET_KEY; `make run` on such a database gives them the
        generated key instead of refusing at the first registration or failed sign-in.
        """
        if settings.BLIND_INDEX_KEY or Path(settings.BLIND_INDEX_KEY_FILE).exists():
            return
        if blind_indexes_exist():
            result = rebuild_blind_indexes()
            self.stdout.write(
                f"Recomputed {result.people} personnummer indexes under the new blind-index key."
            )
