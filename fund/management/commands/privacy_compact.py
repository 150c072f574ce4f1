"""``manage.py privacy_compact``: after erasures, rewrite the tables that held the keys.

Run it as the tables' owner (MIGRATION_DATABASE_URL on PostgreSQL); see docs/privacy.md.
"""

from typing import Any

from django.core.management.base import BaseCommand

from fund.compaction import compact_personal_data_tables


class Command(BaseCommand):
    help = "Rewrite every table holding personal-data keys or tokens, so erased rows are gone."

    def handle(self, *args: Any, **options: Any) -> None:
        tables = compact_personal_data_tables()
        self.stdout.write(f"Rewrote {len(tables)} tables: {', '.join(tables)}.")
