"""Database guards of the time sheets, on SQLite and PostgreSQL.

Time-sheet entries arrive only through the all-or-nothing import, which records one audit
event for the file (``cofinancing.services.import_time_sheets``). The project report sums
them as in-kind co-financing, so an entry is never changed or deleted afterwards: the
database refuses UPDATE and DELETE whatever writes to it (the admin offers neither). There
is no correction path yet: a wrong entry would need a service that withdraws it together
with its own audit event.

ESF payment claims (``cofinancing.esf_claims``) are guarded the same way: a claim is what was
sent to the co-financier, corrected only by a later claim.
"""

from __future__ import annotations

from typing import Any

from accounting.trigger_sets import TriggerSet

TABLE = "cofinancing_timesheetentry"
_MESSAGE = "an imported time sheet entry cannot be changed or deleted"

_SQLITE = [
    f"""
    CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, '{_MESSAGE}');
    END
    """
    for op in ("UPDATE", "DELETE")
]

_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_no_{op.lower()}" for op in ("UPDATE", "DELETE")]

_PG = [
    f"""
    CREATE OR REPLACE FUNCTION cofinancing_time_sheet_fixed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
    END $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_fixed BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION cofinancing_time_sheet_fixed()
    """,
]

_PG_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_fixed ON {TABLE}"]


TIME_SHEET_GUARDS = TriggerSet("time-sheet guards", _SQLITE, _SQLITE_DROP, _PG, _PG_DROP)


def _insert_only(table: str, message: str, function: str) -> TriggerSet:
    """UPDATE and DELETE refused on ``table``, on both databases."""
    ops = ("UPDATE", "DELETE")
    sqlite = [
        f"""
        CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN
            SELECT RAISE(ABORT, '{message}');
        END
        """
        for op in ops
    ]
    sqlite_drop = [f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}" for op in ops]
    pg = [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
        END $$
        """,
        f"""
        CREATE TRIGGER {table}_fixed BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {function}()
        """,
    ]
    pg_drop = [f"DROP TRIGGER IF EXISTS {table}_fixed ON {table}"]
    return TriggerSet(f"{table} guards", sqlite, sqlite_drop, pg, pg_drop)


#: A payment claim is what was sent to the co-financier: corrected by a later claim only.
ESF_CLAIM_GUARDS = _insert_only(
    "cofinancing_esfclaim",
    "a recorded ESF claim cannot be changed or deleted",
    "cofinancing_esf_claim_fixed",
)


def install(connection: Any) -> None:
    TIME_SHEET_GUARDS.install(connection)


def uninstall(connection: Any) -> None:
    TIME_SHEET_GUARDS.uninstall(connection)


def install_claim_guards(connection: Any) -> None:
    ESF_CLAIM_GUARDS.install(connection)


def uninstall_claim_guards(connection: Any) -> None:
    ESF_CLAIM_GUARDS.uninstall(connection)
