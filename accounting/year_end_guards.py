"""Database guards of a closed fiscal year, on SQLite and PostgreSQL (migration 0014).

A year whose closing is locked (``YearEndClosing.locked_at``) takes no voucher again, of any
series, whatever writes to the database; no period can be added to it, its dates cannot
change, and the closing row can neither be changed nor deleted once locked (nor deleted once
approved).

The year-end vouchers (series E) are booked on the closed year's last day and the next
year's first day, into periods that may already be closed. The closed-period trigger of
``db_guards`` therefore leaves series E to this set, which lets a series E voucher into a
closed period only while a closing covering its date is approved and not yet locked: the
approval sets ``approved_at``, books, and sets ``locked_at`` in one transaction, so no other
transaction ever sees that window open.
"""

from __future__ import annotations

from typing import Any

from accounting.trigger_sets import TriggerSet

LOCKED = "the fiscal year of this voucher is closed and locked: it takes no vouchers"
NO_WINDOW = (
    "a year-end voucher (series E) enters a closed period only during the approval "
    "of the closing of its year"
)
PERIOD_LOCKED = "the fiscal year is closed and locked: no period can be added to it"
YEAR_LOCKED = "the fiscal year is closed and locked: its dates cannot change"
CLOSING_LOCKED = "a locked year-end closing cannot be changed"
CLOSING_KEPT = "an approved year-end closing cannot be deleted"

_LOCKED_YEAR_OF_VOUCHER = """EXISTS (
    SELECT 1 FROM accounting_yearendclosing c
      JOIN accounting_fiscalyear y ON y.id = c.fiscal_year_id
     WHERE c.locked_at IS NOT NULL
       AND (c.fiscal_year_id = NEW.fiscal_year_id OR NEW.date BETWEEN y.start AND y."end"))"""

_CLOSED_PERIOD = """EXISTS (
    SELECT 1 FROM accounting_period
     WHERE NEW.date BETWEEN start AND "end" AND closed_at IS NOT NULL)"""

_APPROVAL_WINDOW = """EXISTS (
    SELECT 1 FROM accounting_yearendclosing c
      JOIN accounting_fiscalyear y ON y.id = c.fiscal_year_id
     WHERE c.approved_at IS NOT NULL AND c.locked_at IS NULL
       AND NEW.date BETWEEN y.start AND c.disposition_date)"""

_PERIOD_IN_LOCKED_YEAR = """EXISTS (
    SELECT 1 FROM accounting_yearendclosing c
      JOIN accounting_fiscalyear y ON y.id = c.fiscal_year_id
     WHERE c.locked_at IS NOT NULL
       AND (c.fiscal_year_id = NEW.fiscal_year_id
            OR (NEW.start <= y."end" AND NEW."end" >= y.start)))"""

_YEAR_IS_LOCKED = """EXISTS (
    SELECT 1 FROM accounting_yearendclosing c
     WHERE c.fiscal_year_id = OLD.id AND c.locked_at IS NOT NULL)"""

_SQLITE = [
    f"""
    CREATE TRIGGER accounting_voucher_year_locked BEFORE INSERT ON accounting_voucher
    WHEN {_LOCKED_YEAR_OF_VOUCHER}
    BEGIN
        SELECT RAISE(ABORT, '{LOCKED}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_voucher_year_end_window BEFORE INSERT ON accounting_voucher
    WHEN NEW.series = 'E' AND {_CLOSED_PERIOD} AND NOT {_APPROVAL_WINDOW}
    BEGIN
        SELECT RAISE(ABORT, '{NO_WINDOW}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_period_not_in_locked_year BEFORE INSERT ON accounting_period
    WHEN {_PERIOD_IN_LOCKED_YEAR}
    BEGIN
        SELECT RAISE(ABORT, '{PERIOD_LOCKED}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_fiscalyear_locked_fixed BEFORE UPDATE ON accounting_fiscalyear
    WHEN {_YEAR_IS_LOCKED}
    BEGIN
        SELECT RAISE(ABORT, '{YEAR_LOCKED}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_yearendclosing_stays_locked
    BEFORE UPDATE ON accounting_yearendclosing
    WHEN OLD.locked_at IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, '{CLOSING_LOCKED}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_yearendclosing_kept BEFORE DELETE ON accounting_yearendclosing
    WHEN OLD.approved_at IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, '{CLOSING_KEPT}');
    END
    """,
]

_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS accounting_voucher_year_locked",
    "DROP TRIGGER IF EXISTS accounting_voucher_year_end_window",
    "DROP TRIGGER IF EXISTS accounting_period_not_in_locked_year",
    "DROP TRIGGER IF EXISTS accounting_fiscalyear_locked_fixed",
    "DROP TRIGGER IF EXISTS accounting_yearendclosing_stays_locked",
    "DROP TRIGGER IF EXISTS accounting_yearendclosing_kept",
]


def _pg_function(name: str, condition: str, message: str, returns: str = "NEW") -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF {condition} THEN
            RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN {returns};
    END $$
    """


_PG = [
    _pg_function("accounting_voucher_year_locked", _LOCKED_YEAR_OF_VOUCHER, LOCKED),
    _pg_function(
        "accounting_voucher_year_end_window",
        f"NEW.series = 'E' AND {_CLOSED_PERIOD} AND NOT {_APPROVAL_WINDOW}",
        NO_WINDOW,
    ),
    _pg_function("accounting_period_not_in_locked_year", _PERIOD_IN_LOCKED_YEAR, PERIOD_LOCKED),
    _pg_function("accounting_fiscalyear_locked_fixed", _YEAR_IS_LOCKED, YEAR_LOCKED),
    _pg_function(
        "accounting_yearendclosing_stays_locked", "OLD.locked_at IS NOT NULL", CLOSING_LOCKED
    ),
    _pg_function(
        "accounting_yearendclosing_kept", "OLD.approved_at IS NOT NULL", CLOSING_KEPT, "OLD"
    ),
    """
    CREATE TRIGGER accounting_voucher_year_locked BEFORE INSERT ON accounting_voucher
    FOR EACH ROW EXECUTE FUNCTION accounting_voucher_year_locked()
    """,
    """
    CREATE TRIGGER accounting_voucher_year_end_window BEFORE INSERT ON accounting_voucher
    FOR EACH ROW EXECUTE FUNCTION accounting_voucher_year_end_window()
    """,
    """
    CREATE TRIGGER accounting_period_not_in_locked_year BEFORE INSERT ON accounting_period
    FOR EACH ROW EXECUTE FUNCTION accounting_period_not_in_locked_year()
    """,
    """
    CREATE TRIGGER accounting_fiscalyear_locked_fixed BEFORE UPDATE ON accounting_fiscalyear
    FOR EACH ROW EXECUTE FUNCTION accounting_fiscalyear_locked_fixed()
    """,
    """
    CREATE TRIGGER accounting_yearendclosing_stays_locked
    BEFORE UPDATE ON accounting_yearendclosing
    FOR EACH ROW EXECUTE FUNCTION accounting_yearendclosing_stays_locked()
    """,
    """
    CREATE TRIGGER accounting_yearendclosing_kept BEFORE DELETE ON accounting_yearendclosing
    FOR EACH ROW EXECUTE FUNCTION accounting_yearendclosing_kept()
    """,
]

_PG_DROP = [
    "DROP TRIGGER IF EXISTS accounting_voucher_year_locked ON accounting_voucher",
    "DROP TRIGGER IF EXISTS accounting_voucher_year_end_window ON accounting_voucher",
    "DROP TRIGGER IF EXISTS accounting_period_not_in_locked_year ON accounting_period",
    "DROP TRIGGER IF EXISTS accounting_fiscalyear_locked_fixed ON accounting_fiscalyear",
    "DROP TRIGGER IF EXISTS accounting_yearendclosing_stays_locked ON accounting_yearendclosing",
    "DROP TRIGGER IF EXISTS accounting_yearendclosing_kept ON accounting_yearendclosing",
]

YEAR_END_GUARDS = TriggerSet("year-end guards", _SQLITE, _SQLITE_DROP, _PG, _PG_DROP)


def install(connection: Any) -> None:
    YEAR_END_GUARDS.install(connection)


def uninstall(connection: Any) -> None:
    YEAR_END_GUARDS.uninstall(connection)
