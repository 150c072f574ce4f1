"""``manage.py rekey_data``: after a master key may have leaked, new data keys for everything.

Procedure: put a new master key first in FIELD_ENCRYPTION_KEYS with the leaked key after it,
stop the application (nothing may write meanwhile), run this command, then remove the leaked
key and restart. Rotation alone is not enough: the leaked key unwraps the old data keys kept
in backups, and those would still open the tokens.
"""

from typing import Any

from django.core.management.base import BaseCommand

from fund.key_management import rekey_after_leak


class Command(BaseCommand):
    help = "Give every key holder a new data key and re-encrypt every personal value under it."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rekey_after_leak()
        self.stdout.write(
            f"Re-encrypted {counts['tokens']} values under {counts['keys']} new data keys, "
            "wrapped with the newest master key. Now remove the leaked master key from "
            "FIELD_ENCRYPTION_KEYS and restart."
        )
