"""``manage.py rekey_data``: after a master key may have leaked, new data keys for everything.

Procedure: put a new master key first in FIELD_ENCRYPTION_KEYS with the leaked key after it,
stop the application (nothing may write meanwhile), run this command, then remove the leaked
key and restart. Rotation alone is not enough: the leaked key unwraps the old data keys kept
in backups, and those would still open the tokens. Rows that cannot be opened keep their old
key and are named; the command then exits non-zero.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fund.key_management import RowsSkipped, rekey_after_leak


class Command(BaseCommand):
    help = "Give every key holder a new data key and re-encrypt every personal value under it."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = rekey_after_leak()
        except RowsSkipped as skipped:
            self.stdout.write(self._done(skipped.counts))
            raise CommandError(
                f"{skipped} Those rows are still under their old data keys, which the leaked "
                "master key opens: restore them from a backup taken before the leak, or erase "
                "them, and run this again."
            ) from skipped
        self.stdout.write(
            f"{self._done(counts)} Now remove the leaked master key from "
            "FIELD_ENCRYPTION_KEYS and restart."
        )

    @staticmethod
    def _done(counts: dict[str, int]) -> str:
        return (
            f"Re-encrypted {counts['tokens']} values under {counts['keys']} new data keys, "
            "wrapped with the newest master key."
        )
