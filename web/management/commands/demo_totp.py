"""``manage.py demo_totp``: the current one-time code for the demo staff users (demo only)."""

from typing import Any

from django.core.management.base import BaseCommand

from web.demo import DEMO_TOTP_SECRET_BASE32, current_code


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo secret that seed_demo gives staff users."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{current_code()}  (secret {DEMO_TOTP_SECRET_BASE32}, demo only)")
