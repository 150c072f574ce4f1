"""Database triggers that make the audit tables append-only.

Installed by migration ``0002``. SQLite gets BEFORE UPDATE/DELETE triggers that abort;
PostgreSQL gets statement-level BEFORE UPDATE/DELETE/TRUNCATE triggers that raise, so even
an UPDATE matching no row, or a TRUNCATE (which fires no row triggers), is refused.

The SQL here is part of the schema history: change it only together with a new migration.
``drop``/``install`` exist for tests that play the attacker (who, with owner rights, can
drop a trigger) and for the test runner's flush between transactional tests.
"""

from __future__ import annotations

from typing import Any

PROTECTED_TABLES = ("audit_auditevent", "audit_auditcheckpoint", "audit_audittimestamp")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _sqlite_install(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {op} on {table} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]


def _pg_install(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    ]


def _pg_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def install_statements(vendor: str, tables: tuple[str, ...] = PROTECTED_TABLES) -> list[str]:
    if vendor == "sqlite":
        return [sql for table in tables for sql in _sqlite_install(table)]
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [sql for table in tables for sql in _pg_install(table)]
    raise NotImplementedError(f"no append-only triggers for the {vendor} backend")


def drop_statements(vendor: str, tables: tuple[str, ...] = PROTECTED_TABLES) -> list[str]:
    if vendor == "sqlite":
        return [sql for table in tables for sql in _sqlite_drop(table)]
    if vendor == "postgresql":
        return [sql for table in tables for sql in _pg_drop(table)]
    raise NotImplementedError(f"no append-only triggers for the {vendor} backend")


def install(connection: Any, tables: tuple[str, ...] = PROTECTED_TABLES) -> None:
    with connection.cursor() as cursor:
        for sql in install_statements(connection.vendor, tables):
            cursor.execute(sql)


def drop(connection: Any, tables: tuple[str, ...] = PROTECTED_TABLES) -> None:
    with connection.cursor() as cursor:
        for sql in drop_statements(connection.vendor, tables):
            cursor.execute(sql)


def installed(connection: Any, table: str = "audit_auditevent") -> int:
    """How many of our triggers guard ``table`` (for tests and the checks)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
                "AND name LIKE %s",
                [table, f"{table}_no_%"],
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND tgname LIKE %s AND NOT tgisinternal",
                [table, f"{table}_no_%"],
            )
        return int(cursor.fetchone()[0])
