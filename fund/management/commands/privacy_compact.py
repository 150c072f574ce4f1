"""``manage.py privacy_compact``: after erasures, rewrite the tables that held the keys.

Run it as the tables' owner (MIGRATION_DATABASE_URL on PostgreSQL); see docs/privacy.md.
Exits with an error when PostgreSQL had to keep old row versions because a transaction that
could still see them was open: nothing is claimed that did not happen.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fund.compaction import compact_personal_data_tables


class Command(BaseCommand):
    help = "Rewrite every table holding personal-data keys or tokens, so erased rows are gone."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--attempts", type=int, default=5, help="tries per table while old rows are pinned"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = compact_personal_data_tables(attempts=max(1, options["attempts"]))
        self.stdout.write(f"Rewrote {len(result.tables)} tables: {', '.join(result.tables)}.")
        problems = [
            f"{table}: {count} old row versions kept, because a transaction that can still see "
            "them is open (see pg_stat_activity: 'idle in transaction' or a long query)"
            for table, count in sorted(result.kept.items())
        ] + [
            f"{table}: PostgreSQL's report could not be read (set lc_messages to English for "
            "this role), so its cleaning is not confirmed"
            for table in result.unconfirmed
        ]
        if problems:
            raise CommandError(
                "Not every erased row is gone yet; end those transactions and run "
                "privacy_compact again:\n  - " + "\n  - ".join(problems)
            )
