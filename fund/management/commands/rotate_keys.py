"""``manage.py rotate_keys``: re-wrap every person's key with the newest master key.

Rotation without downtime: put the new key first in FIELD_ENCRYPTION_KEYS (old ones after
it), deploy, run this command, then remove the old keys.
"""

from typing import Any

from django.core.management.base import BaseCommand

from fund.privacy import rotate_master_keys


class Command(BaseCommand):
    help = "Re-wrap every person's data key with the newest master key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_master_keys()
        self.stdout.write(f"Re-wrapped {count} personal data keys with the newest master key.")
