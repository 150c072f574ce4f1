"""``manage.py seed_demo``: demo funds, users (password ``fundflow-demo``) and cases.

Runs only in the embedded demo mode (DEBUG on, as `make run` starts it): its users have a
public password and one-time code secret, which must never reach a real installation.
"""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fund.demo import DEMO_PASSWORD, DEMO_USERS, seed


class Command(BaseCommand):
    help = "Create demo funds, a user for every role and applications in every state."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED_MODE:
            raise CommandError(
                "seed_demo runs only in the embedded demo mode (DEBUG=1, as `make run` starts "
                "it): it creates users with a public password and one-time code secret. This "
                "installation runs with DEBUG off; nothing was created."
            )
        seed(self.stdout.write)
        if apps.is_installed("web"):  # the web app's second factor for the demo staff users
            from web.demo import seed_devices

            seed_devices(self.stdout.write)
        self.stdout.write(
            f"Demo users (password {DEMO_PASSWORD!r}, demo only): {', '.join(DEMO_USERS)}"
        )
