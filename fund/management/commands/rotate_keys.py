"""``manage.py rotate_keys``: re-wrap every data key with the newest master key.

Rotation without downtime: put the new key first in FIELD_ENCRYPTION_KEYS (old ones after
it), deploy, run this command, then remove the old keys. For a master key that may have
leaked, use ``rekey_data`` instead.
"""

from typing import Any

from django.core.management.base import BaseCommand

from fund.key_management import rotate_master_keys


class Command(BaseCommand):
    help = "Re-wrap every data key (people and person payees) with the newest master key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_master_keys()
        self.stdout.write(f"Re-wrapped {count} data keys with the newest master key.")
