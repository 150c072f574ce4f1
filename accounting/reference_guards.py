"""Database guards of the reference data the books depend on, on SQLite and PostgreSQL.

A posting names its account, its dimension objects and (through its fund object) its fund by
id. Changing what those ids stand for rewrites every booked amount without touching a posting:
renumbering an account or changing its type moves money between report lines; giving a
dimension object another fund or code moves a fund's balance to another fund. So, once used,
the database refuses (the admin shows them read-only too, and every change that is still
allowed is an audit event, see ``accounting/reference_audit.py``):

* an account's ``number`` and ``type`` once it has postings (its name and ``active`` stay
  editable: a deactivated account takes no new postings);
* a dimension's ``number`` once objects of it have postings;
* a dimension object's ``dimension``, ``code`` and ``fund`` once postings reference it;
* a fund's ``accounting_dimension`` once its dimension object has postings;
* a fund's ``restricted_funds_account`` once a posting on that account carries the fund's
  object (a new account would strand the balance: the next year's restricted opening reads
  the fund's account, ``accounting/restricted_funds.py``);
* a fiscal year's dates once it has vouchers, a period's dates and year once vouchers fall in
  it; a period that is closed or holds vouchers cannot be deleted (deleting a closed period
  would let the ledger recreate it open).

And, for the ledger itself: every new voucher gets a ``accounting_vouchersealdue`` row (by an
AFTER INSERT trigger) whose deferred foreign key needs the voucher's seal at COMMIT, so a
voucher without postings cannot commit on SQLite either (PostgreSQL's constraint trigger
already refused it).

Errors are integrity errors, as in ``accounting/db_guards.py``.
"""

from __future__ import annotations

from typing import Any

from accounting.trigger_sets import TriggerSet

#: The refusals, one wording on both databases (kept free of quotes: they sit in SQL text).
_MESSAGES = {
    "account": "the account has postings: its number and type cannot change "
    "(open a new account instead)",
    "dimension": "the dimension has postings on its objects: its number cannot change",
    "object": "the dimension object has postings: its dimension, code and fund cannot change",
    "fund": "the fund has postings on its accounting object: "
    "its accounting dimension cannot change",
    "restricted": "the restricted funds account of the fund has postings with its "
    "accounting object: the account cannot change",
    "year": "the fiscal year has vouchers: its dates cannot change",
    "period": "the period has vouchers: its dates and fiscal year cannot change",
    "period_delete": "a period that is closed or has vouchers cannot be deleted",
    "due": "accounting_vouchersealdue is append-only",
}

#: Whether postings reference the dimension object being updated.
_OLD_USED = (
    "EXISTS (SELECT 1 FROM accounting_posting p WHERE p.fund_object_id = OLD.id "
    "OR p.project_id = OLD.id OR p.cost_centre_id = OLD.id)"
)

#: (table, trigger, event, WHEN condition, refusing condition, message key, returns).
#: The WHEN clause keeps the (costlier) usage query off updates that leave the fields alone.
_GUARDS = [
    (
        "accounting_account",
        "accounting_account_used_fixed",
        "UPDATE OF number, type",
        "OLD.number IS DISTINCT FROM NEW.number OR OLD.type IS DISTINCT FROM NEW.type",
        "EXISTS (SELECT 1 FROM accounting_posting WHERE account_id = OLD.id)",
        "account",
        "NEW",
    ),
    (
        "accounting_dimension",
        "accounting_dimension_used_fixed",
        "UPDATE OF number",
        "OLD.number IS DISTINCT FROM NEW.number",
        "EXISTS (SELECT 1 FROM accounting_dimensionobject o WHERE o.dimension_id = OLD.id AND "
        "EXISTS (SELECT 1 FROM accounting_posting p WHERE p.fund_object_id = o.id "
        "OR p.project_id = o.id OR p.cost_centre_id = o.id))",
        "dimension",
        "NEW",
    ),
    (
        "accounting_dimensionobject",
        "accounting_dimensionobject_used_fixed",
        "UPDATE OF dimension_id, code, fund_id",
        "OLD.dimension_id IS DISTINCT FROM NEW.dimension_id OR OLD.code IS DISTINCT FROM "
        "NEW.code OR OLD.fund_id IS DISTINCT FROM NEW.fund_id",
        _OLD_USED,
        "object",
        "NEW",
    ),
    (
        "fund_fund",
        "fund_fund_accounting_dimension_fixed",
        "UPDATE OF accounting_dimension",
        "OLD.accounting_dimension IS DISTINCT FROM NEW.accounting_dimension",
        "EXISTS (SELECT 1 FROM accounting_dimensionobject o WHERE o.fund_id = OLD.id AND "
        "EXISTS (SELECT 1 FROM accounting_posting p WHERE p.fund_object_id = o.id "
        "OR p.project_id = o.id OR p.cost_centre_id = o.id))",
        "fund",
        "NEW",
    ),
    (
        "fund_fund",
        "fund_fund_restricted_funds_account_fixed",
        "UPDATE OF restricted_funds_account",
        "OLD.restricted_funds_account IS DISTINCT FROM NEW.restricted_funds_account",
        "EXISTS (SELECT 1 FROM accounting_posting p "
        "JOIN accounting_account a ON a.id = p.account_id "
        "JOIN accounting_dimensionobject o ON o.id = p.fund_object_id "
        "WHERE o.fund_id = OLD.id AND a.number = OLD.restricted_funds_account)",
        "restricted",
        "NEW",
    ),
    (
        "accounting_fiscalyear",
        "accounting_fiscalyear_used_fixed",
        'UPDATE OF start, "end"',
        'OLD.start IS DISTINCT FROM NEW.start OR OLD."end" IS DISTINCT FROM NEW."end"',
        "EXISTS (SELECT 1 FROM accounting_voucher WHERE fiscal_year_id = OLD.id)",
        "year",
        "NEW",
    ),
    (
        "accounting_period",
        "accounting_period_used_fixed",
        'UPDATE OF start, "end", fiscal_year_id',
        'OLD.start IS DISTINCT FROM NEW.start OR OLD."end" IS DISTINCT FROM NEW."end" '
        "OR OLD.fiscal_year_id IS DISTINCT FROM NEW.fiscal_year_id",
        'EXISTS (SELECT 1 FROM accounting_voucher WHERE date BETWEEN OLD.start AND OLD."end" '
        'OR date BETWEEN NEW.start AND NEW."end")',
        "period",
        "NEW",
    ),
    (
        "accounting_period",
        "accounting_period_kept",
        "DELETE",
        "TRUE",
        "OLD.closed_at IS NOT NULL OR EXISTS (SELECT 1 FROM accounting_voucher "
        'WHERE date BETWEEN OLD.start AND OLD."end")',
        "period_delete",
        "OLD",
    ),
]


def _sqlite_guard(table: str, trigger: str, event: str, when: str, refuse: str, key: str) -> str:
    # SQLite spells IS DISTINCT FROM as IS NOT, and has no TRUE before 3.23.
    condition = f"({when}) AND ({refuse})".replace("IS DISTINCT FROM", "IS NOT")
    condition = condition.replace("(TRUE) AND ", "")
    return (
        f"CREATE TRIGGER {trigger} BEFORE {event} ON {table} WHEN {condition} "
        f"BEGIN SELECT RAISE(ABORT, '{_MESSAGES[key]}'); END"
    )


_SQLITE = [
    """
    CREATE TRIGGER accounting_voucher_seal_due AFTER INSERT ON accounting_voucher
    BEGIN
        INSERT INTO accounting_vouchersealdue (voucher_id, seal_id) VALUES (NEW.id, NEW.id);
    END
    """,
    *[
        f"""
        CREATE TRIGGER accounting_vouchersealdue_no_{op.lower()}
        BEFORE {op} ON accounting_vouchersealdue
        BEGIN
            SELECT RAISE(ABORT, '{_MESSAGES["due"]}');
        END
        """
        for op in ("UPDATE", "DELETE")
    ],
    *[
        _sqlite_guard(table, trigger, event, when, refuse, key)
        for table, trigger, event, when, refuse, key, _returns in _GUARDS
    ],
]

_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS accounting_voucher_seal_due",
    "DROP TRIGGER IF EXISTS accounting_vouchersealdue_no_update",
    "DROP TRIGGER IF EXISTS accounting_vouchersealdue_no_delete",
    "DROP TRIGGER IF EXISTS accounting_account_used_fixed",
    "DROP TRIGGER IF EXISTS accounting_dimension_used_fixed",
    "DROP TRIGGER IF EXISTS accounting_dimensionobject_used_fixed",
    "DROP TRIGGER IF EXISTS fund_fund_accounting_dimension_fixed",
    "DROP TRIGGER IF EXISTS fund_fund_restricted_funds_account_fixed",
    "DROP TRIGGER IF EXISTS accounting_fiscalyear_used_fixed",
    "DROP TRIGGER IF EXISTS accounting_period_used_fixed",
    "DROP TRIGGER IF EXISTS accounting_period_kept",
]


def _pg_refusal(name: str, condition: str, message: str, returns: str) -> str:
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


_PG_IMMUTABLE_DUE = (
    "accounting_vouchersealdue",
    "accounting_vouchersealdue_immutable",
    "UPDATE OR DELETE",
    "TRUE",
    "TRUE",
    "due",
    "NULL",
)

_PG = [
    """
    CREATE OR REPLACE FUNCTION accounting_voucher_seal_due() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO accounting_vouchersealdue (voucher_id, seal_id) VALUES (NEW.id, NEW.id);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER accounting_voucher_seal_due AFTER INSERT ON accounting_voucher
    FOR EACH ROW EXECUTE FUNCTION accounting_voucher_seal_due()
    """,
    *[
        statement
        for table, trigger, event, when, refuse, key, returns in [*_GUARDS, _PG_IMMUTABLE_DUE]
        for statement in (
            _pg_refusal(trigger, refuse, _MESSAGES[key], returns),
            f"""
            CREATE TRIGGER {trigger} BEFORE {event} ON {table}
            FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {trigger}()
            """,
        )
    ],
]

_PG_DROP = [
    "DROP TRIGGER IF EXISTS accounting_voucher_seal_due ON accounting_voucher",
    *[
        f"DROP TRIGGER IF EXISTS {trigger} ON {table}"
        for table, trigger, *_rest in [*_GUARDS, _PG_IMMUTABLE_DUE]
    ],
]


REFERENCE_GUARDS = TriggerSet("reference-data guards", _SQLITE, _SQLITE_DROP, _PG, _PG_DROP)


def install(connection: Any) -> None:
    REFERENCE_GUARDS.install(connection)


def uninstall_restricted_account_guard(connection: Any) -> None:
    """Undo migration 0015 alone (the other guards stay, as migration 0008 installed them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER IF EXISTS fund_fund_restricted_funds_account_fixed ON fund_fund"
            )
            cursor.execute("DROP FUNCTION IF EXISTS fund_fund_restricted_funds_account_fixed()")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS fund_fund_restricted_funds_account_fixed")


def uninstall(connection: Any) -> None:
    REFERENCE_GUARDS.uninstall(connection)
