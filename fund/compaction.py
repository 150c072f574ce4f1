"""Making erased values physically unrecoverable from the database files.

Erasure blanks a person's wrapped key in place. The database still holds the OLD row version
until its space is rewritten: on PostgreSQL an UPDATE leaves a dead tuple that a plain
``VACUUM`` only marks reusable (the bytes stay in the page until something overwrites them);
``VACUUM FULL`` writes the table and its TOAST and indexes into new files and drops the old
ones. On SQLite ``PRAGMA secure_delete`` (set on every connection, fund/apps.py) zeroes freed
space at once; ``VACUUM`` also rebuilds the file without free pages.
"""

from __future__ import annotations

from django.db import connection

from fund.token_fields import personal_data_tables


def compact_personal_data_tables() -> list[str]:
    """Rewrite every table that holds keys, tokens or blind indexes; returns their names.

    On PostgreSQL it needs the tables' owner (the migration role) and takes an exclusive lock
    on each table while it is rewritten: run it in a quiet hour after erasures.
    """
    tables = personal_data_tables()
    if connection.in_atomic_block:
        raise RuntimeError("VACUUM cannot run inside a transaction")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"VACUUM (FULL, ANALYZE) {connection.ops.quote_name(table)}")
        else:
            cursor.execute("VACUUM")
    return tables
