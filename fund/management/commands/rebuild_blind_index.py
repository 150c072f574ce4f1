"""``manage.py rebuild_blind_index``: recompute every personnummer index under the index's key.

A demo database from before issue #14 has indexes made with SECRET_KEY; this creates the
blind-index key (var/keys/blind-index.key, 0600, unless BLIND_INDEX_KEY is set) and
recomputes each index from the encrypted personnummer. Also after replacing BLIND_INDEX_KEY.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fund.key_safety import rebuild_blind_indexes
from fund.management.commands._actor import actor_named


class Command(BaseCommand):
    help = "Recompute every personnummer and name index from the decrypted values."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", default="", help="the user the audit log names")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_named(options["actor"]) if options["actor"] else None
        result = rebuild_blind_indexes(actor=actor)
        if result.key_created:
            self.stdout.write("Created a new blind-index key (keep it with the other keys).")
        self.stdout.write(
            f"Recomputed {result.people} personnummer indexes and {result.names} name indexes; "
            f"cleared {result.cleared} that could not be read."
        )
