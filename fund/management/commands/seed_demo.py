"""``manage.py seed_demo``: demo funds, users (password ``fundflow-demo``) and cases."""

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from fund.demo import DEMO_PASSWORD, DEMO_USERS, seed


class Command(BaseCommand):
    help = "Create demo funds, a user for every role and applications in every state."

    def handle(self, *args: Any, **options: Any) -> None:
        seed(self.stdout.write)
        if apps.is_installed("web"):  # the web app's second factor for the demo staff users
            from web.demo import seed_devices

            seed_devices(self.stdout.write)
        self.stdout.write(
            f"Demo users (password {DEMO_PASSWORD!r}, demo only): {', '.join(DEMO_USERS)}"
        )
