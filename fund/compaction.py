"""Making erased values physically unrecoverable from the database files.

Erasure blanks a person's wrapped key in place. The database still holds the OLD row version
until its space is rewritten: on PostgreSQL an UPDATE leaves a dead tuple that a plain
``VACUUM`` only marks reusable (the bytes stay in the page until something overwrites them);
``VACUUM FULL`` writes the table and its TOAST and indexes into new files and drops the old
ones. On SQLite ``PRAGMA secure_delete`` (set on every connection, fund/apps.py) zeroes freed
space at once; ``VACUUM`` also rebuilds the file without free pages.

``VACUUM FULL`` must still copy a dead row version that some open transaction in the same
database may see (its snapshot began before the erasure). PostgreSQL says so in the command's
VERBOSE report ("N dead row versions cannot be removed yet"); the compaction reads that, waits
and tries again, and reports a table it could not clean instead of claiming success.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from fund.token_fields import personal_data_tables

_KEPT = re.compile(r"(\d+) dead row versions cannot be removed yet")


@dataclass
class Compaction:
    tables: list[str]
    #: Table -> dead row versions PostgreSQL had to keep (an open transaction could see them).
    kept: dict[str, int] = field(default_factory=dict)
    #: Tables whose VERBOSE report could not be read (another server language): unconfirmed.
    unconfirmed: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.kept and not self.unconfirmed


def _vacuum_full(table: str) -> int | None:
    """Rewrite one table; how many dead row versions it kept (None: the report was unreadable)."""
    details: list[str] = []

    def collect(diagnostic: Any) -> None:
        details.append(f"{diagnostic.message_primary or ''} {diagnostic.message_detail or ''}")

    raw = connection.connection
    raw.add_notice_handler(collect)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (FULL, ANALYZE, VERBOSE) {connection.ops.quote_name(table)}")
    finally:
        raw.remove_notice_handler(collect)
    kept = [int(match.group(1)) for text in details for match in _KEPT.finditer(text)]
    return sum(kept) if kept else None


def compact_personal_data_tables(*, attempts: int = 5, wait_seconds: float = 1.0) -> Compaction:
    """Rewrite every table that holds keys, tokens or blind indexes.

    On PostgreSQL it needs the tables' owner (the migration role) and takes an exclusive lock
    on each table while it is rewritten: run it in a quiet hour after erasures. A table whose
    old row versions an open transaction still pins is tried again ``attempts`` times.
    """
    tables = personal_data_tables()
    if connection.in_atomic_block:
        raise RuntimeError("VACUUM cannot run inside a transaction")
    result = Compaction(tables)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
        return result
    connection.ensure_connection()
    for table in tables:
        for attempt in range(attempts):
            kept = _vacuum_full(table)
            if kept == 0:
                result.kept.pop(table, None)
                break
            if kept is None:
                result.unconfirmed.append(table)
                break
            result.kept[table] = kept
            if attempt + 1 < attempts:
                time.sleep(wait_seconds)
    return result
