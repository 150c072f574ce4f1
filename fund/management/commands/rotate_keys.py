"""``manage.py rotate_keys``: re-wrap every data key with the newest master key.

Rotation without downtime: put the new key first in FIELD_ENCRYPTION_KEYS (old ones after
it), deploy, run this command, then remove the old keys. For a master key that may have
leaked, use ``rekey_data`` instead. Rows that cannot be opened are skipped and named; the
command then exits non-zero, and the old keys must stay until those rows are dealt with.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fund.key_management import RowsSkipped, rotate_master_keys


class Command(BaseCommand):
    help = "Re-wrap every data key (people and person payees) with the newest master key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = rotate_master_keys()
        except RowsSkipped as skipped:
            self.stdout.write(
                f"Re-wrapped {skipped.counts['keys']} data keys with the newest master key."
            )
            raise CommandError(f"{skipped} Do not remove the old master key yet.") from skipped
        self.stdout.write(f"Re-wrapped {count} data keys with the newest master key.")
