"""Database-level guards of the ledger, on SQLite and PostgreSQL.

The services already refuse unbalanced vouchers and never edit a posting; these triggers make
the database refuse the same whatever writes to it (raw SQL, ``bulk_create``, a bug).

**Balance at commit.** Every posting carries ``seal_id`` (= its voucher's id), a foreign key
to ``accounting_voucherseal``. Django creates foreign keys ``DEFERRABLE INITIALLY DEFERRED``
on both databases, so the reference is checked at COMMIT: a transaction that wrote postings
but no seal cannot commit. The seal row can only be inserted when its voucher's postings
balance to exactly zero (at least two postings, sum 0, checked in öre as integers on SQLite
so that no float rounding creeps in), and once a voucher is sealed no posting can be added
to it. Together: whatever commits is balanced. SQLite has no deferred triggers, but it does
have deferred foreign keys, which is what makes this sound there.

On PostgreSQL there is, in addition, a ``DEFERRABLE INITIALLY DEFERRED`` constraint trigger on
postings (and on vouchers, so that an empty voucher is refused) that sums the voucher at
commit and raises if it is not zero.

**Immutability.** Vouchers, seals and postings refuse UPDATE and DELETE. The sealing step is
an INSERT into the seal table, so no exception is needed for it. A closed period refuses new
vouchers (on PostgreSQL the period row is read ``FOR SHARE``, so a voucher racing the closing
of its period waits for it and is refused), and a closed period cannot be reopened. Year-end
vouchers (series E) are left to ``year_end_guards.py``: they enter a closed period only while
the approval of a closing books them, and a locked year takes no voucher at all.

The reference data the postings point to (accounts, dimension objects, a fund's accounting
object, periods) and the seal every voucher needs are guarded in ``reference_guards.py``.

**Payees are never edited nor deleted** (migrations 0007, 0010): an UPDATE that changes where
a payee's money goes, or who registered or approved it, is refused; approving once, deactivating
and the erasure of a person payee's account are the only changes allowed. A corrected account is a
new payee, which needs a second treasurer's approval again. A person payee's account is its
key and token (``wrapped_key``, ``encrypted_personal_data``): they change only by erasure,
rotation, re-keying and approval, and never into a copy of another payee's. A payee is never
deleted, and never inserted already approved: the approval is a second treasurer's UPDATE.

Errors are raised as integrity errors (SQLite ``RAISE(ABORT, …)``, PostgreSQL SQLSTATE
23514), which Django reports as ``IntegrityError``.

The test suite's teardown of transactional tests empties tables with DELETE on SQLite; use
:func:`purge_ledger` (tests only) which drops the guards, empties the ledger and the payees
and reinstalls them.
"""

from __future__ import annotations

from typing import Any

from accounting.trigger_sets import TriggerSet

IMMUTABLE_TABLES = ("accounting_voucher", "accounting_voucherseal", "accounting_posting")

_SQLITE = [
    *[
        f"""
        CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN
            SELECT RAISE(ABORT, '{table} is append-only: {op} refused; correct the ledger
            with a reversal voucher');
        END
        """
        for table in IMMUTABLE_TABLES
        for op in ("UPDATE", "DELETE")
    ],
    """
    CREATE TRIGGER accounting_posting_not_after_seal BEFORE INSERT ON accounting_posting
    WHEN EXISTS (SELECT 1 FROM accounting_voucherseal WHERE voucher_id = NEW.voucher_id)
    BEGIN
        SELECT RAISE(ABORT, 'voucher is sealed: no posting may be added to it');
    END
    """,
    """
    CREATE TRIGGER accounting_voucherseal_balanced BEFORE INSERT ON accounting_voucherseal
    WHEN (SELECT COUNT(*) FROM accounting_posting WHERE voucher_id = NEW.voucher_id) < 2
      OR (SELECT SUM(CAST(ROUND(amount * 100) AS INTEGER)) FROM accounting_posting
          WHERE voucher_id = NEW.voucher_id) <> 0
    BEGIN
        SELECT RAISE(ABORT, 'voucher does not balance: its postings must sum to exactly 0');
    END
    """,
    """
    CREATE TRIGGER accounting_voucher_period_open BEFORE INSERT ON accounting_voucher
    WHEN NEW.series <> 'E' AND EXISTS (SELECT 1 FROM accounting_period
                 WHERE NEW.date BETWEEN start AND "end" AND closed_at IS NOT NULL)
    BEGIN
        SELECT RAISE(ABORT, 'the period of this voucher date is closed');
    END
    """,
    """
    CREATE TRIGGER accounting_period_stays_closed BEFORE UPDATE ON accounting_period
    WHEN OLD.closed_at IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, 'a closed period cannot be changed or reopened');
    END
    """,
]

_SQLITE_DROP = [
    *[
        f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}"
        for table in IMMUTABLE_TABLES
        for op in ("UPDATE", "DELETE")
    ],
    "DROP TRIGGER IF EXISTS accounting_posting_not_after_seal",
    "DROP TRIGGER IF EXISTS accounting_voucherseal_balanced",
    "DROP TRIGGER IF EXISTS accounting_voucher_period_open",
    "DROP TRIGGER IF EXISTS accounting_period_stays_closed",
]

_PG = [
    """
    CREATE OR REPLACE FUNCTION accounting_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused; correct the ledger with a reversal voucher',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'check_violation';
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION accounting_check_balanced() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        v bigint;
        n integer;
        total numeric;
    BEGIN
        IF TG_TABLE_NAME = 'accounting_voucher' THEN v := NEW.id; ELSE v := NEW.voucher_id; END IF;
        SELECT COUNT(*), COALESCE(SUM(amount), 0) INTO n, total
          FROM accounting_posting WHERE voucher_id = v;
        IF n < 2 OR total <> 0 THEN
            RAISE EXCEPTION 'voucher % does not balance: % postings summing to %', v, n, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION accounting_posting_not_after_seal() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM accounting_voucherseal WHERE voucher_id = NEW.voucher_id) THEN
            RAISE EXCEPTION 'voucher % is sealed: no posting may be added to it', NEW.voucher_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION accounting_seal_balanced() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        n integer;
        total numeric;
    BEGIN
        SELECT COUNT(*), COALESCE(SUM(amount), 0) INTO n, total
          FROM accounting_posting WHERE voucher_id = NEW.voucher_id;
        IF n < 2 OR total <> 0 THEN
            RAISE EXCEPTION 'voucher % does not balance: its postings must sum to exactly 0',
                NEW.voucher_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION accounting_period_open() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        closed timestamptz;
    BEGIN
        -- FOR SHARE: a period being closed by a transaction not yet committed is waited for
        -- and then read as committed; read committed alone would see it still open.
        SELECT closed_at INTO closed FROM accounting_period
         WHERE NEW.date BETWEEN start AND "end" FOR SHARE;
        IF closed IS NOT NULL AND NEW.series <> 'E' THEN
            RAISE EXCEPTION 'the period of voucher date % is closed', NEW.date
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION accounting_period_stays_closed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.closed_at IS NOT NULL THEN
            RAISE EXCEPTION 'a closed period cannot be changed or reopened'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    *[
        f"""
        CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change()
        """
        for table in IMMUTABLE_TABLES
    ],
    """
    CREATE CONSTRAINT TRIGGER accounting_posting_balanced AFTER INSERT ON accounting_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION accounting_check_balanced()
    """,
    """
    CREATE CONSTRAINT TRIGGER accounting_voucher_balanced AFTER INSERT ON accounting_voucher
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION accounting_check_balanced()
    """,
    """
    CREATE TRIGGER accounting_posting_not_after_seal BEFORE INSERT ON accounting_posting
    FOR EACH ROW EXECUTE FUNCTION accounting_posting_not_after_seal()
    """,
    """
    CREATE TRIGGER accounting_voucherseal_balanced BEFORE INSERT ON accounting_voucherseal
    FOR EACH ROW EXECUTE FUNCTION accounting_seal_balanced()
    """,
    """
    CREATE TRIGGER accounting_voucher_period_open BEFORE INSERT ON accounting_voucher
    FOR EACH ROW EXECUTE FUNCTION accounting_period_open()
    """,
    """
    CREATE TRIGGER accounting_period_stays_closed BEFORE UPDATE ON accounting_period
    FOR EACH ROW EXECUTE FUNCTION accounting_period_stays_closed()
    """,
]

_PG_DROP = [
    *[f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}" for table in IMMUTABLE_TABLES],
    "DROP TRIGGER IF EXISTS accounting_posting_balanced ON accounting_posting",
    "DROP TRIGGER IF EXISTS accounting_voucher_balanced ON accounting_voucher",
    "DROP TRIGGER IF EXISTS accounting_posting_not_after_seal ON accounting_posting",
    "DROP TRIGGER IF EXISTS accounting_voucherseal_balanced ON accounting_voucherseal",
    "DROP TRIGGER IF EXISTS accounting_voucher_period_open ON accounting_voucher",
    "DROP TRIGGER IF EXISTS accounting_period_stays_closed ON accounting_period",
]


LEDGER_GUARDS = TriggerSet("ledger guards", _SQLITE, _SQLITE_DROP, _PG, _PG_DROP)


def install(connection: Any) -> None:
    LEDGER_GUARDS.install(connection)


def uninstall(connection: Any) -> None:
    LEDGER_GUARDS.uninstall(connection)


#: Tables emptied by :func:`purge_ledger`, children first.
PURGE_ORDER = (
    "accounting_yearendclosing",
    "accounting_bankexception",
    "accounting_paymentorder",
    "accounting_payoutfilejob",
    "accounting_payee",  # payees are never deleted either (the payee guard)
    "accounting_paymentbatch",
    "accounting_commitment",
    "accounting_posting",
    "accounting_vouchersealdue",
    "accounting_voucherseal",
    "accounting_voucher",
    "accounting_vouchercounter",
)


# --------------------------------------------------------------------------------------
# Payees are never edited (migration 0007)
# --------------------------------------------------------------------------------------

#: Where the money goes and who vouched for it: no UPDATE may change these.
PAYEE_FIXED_COLUMNS = (
    "reference",
    "kind",
    "name",
    "method",
    "clearing_number",
    "beneficiary_id",
    "organisation_id",
    "registered_by_id",
)

_PAYEE_REFUSAL = "a payee is never edited: register the corrected account as a new payee"


def _payee_change_refused(old: str, new: str, differs: str) -> str:
    """The SQL condition under which an UPDATE of a payee is refused.

    Allowed: approving once (``approved_by``/``approved_at`` from empty to set), deactivating
    (``active`` from true to false), and erasure of a person payee (account and BIC blanked,
    with ``active`` false). Everything else that directs money stays as registered.
    """
    fixed = " OR ".join(f"{new}.{c} {differs} {old}.{c}" for c in PAYEE_FIXED_COLUMNS)
    return f"""
        {fixed}
        OR ({old}.approved_by_id IS NOT NULL
            AND ({new}.approved_by_id {differs} {old}.approved_by_id
                 OR {new}.approved_at {differs} {old}.approved_at))
        OR ({new}.active AND NOT {old}.active)
        OR (({new}.account {differs} {old}.account OR {new}.bic {differs} {old}.bic)
            AND NOT ({old}.kind = 'person' AND {new}.account = '' AND {new}.bic = ''
                     AND NOT {new}.active))
        OR {_payee_token_change_refused(old, new, differs)}
    """


def _payee_token_change_refused(old: str, new: str, differs: str) -> str:
    """A person payee's key and token ARE its account: they change only as the application
    changes them, and never into another payee's.

    Allowed: erasure (both blanked, the payee inactive), rotation (``rotate_master_keys``
    re-wraps the key, the token stays), re-keying (``rekey_after_leak`` writes a new key and
    the re-encrypted token in one UPDATE), and approval (``approve_payee`` writes the approver
    into the token under the same key). Refused besides: a key or token that another payee
    holds (a copy, which needs no master key), and any key once erased.
    """
    key_changed = f"{new}.wrapped_key {differs} {old}.wrapped_key"
    token_changed = f"{new}.encrypted_personal_data {differs} {old}.encrypted_personal_data"
    erasure = (
        f"({new}.wrapped_key = '' AND {new}.encrypted_personal_data = '' AND NOT {new}.active)"
    )
    rewrapped = f"""({old}.wrapped_key <> '' AND {new}.wrapped_key <> '' AND {key_changed}
        AND ({new}.encrypted_personal_data = {old}.encrypted_personal_data
             OR ({old}.encrypted_personal_data <> '' AND {new}.encrypted_personal_data <> '')))"""
    approval = f"""({old}.approved_by_id IS NULL AND {new}.approved_by_id IS NOT NULL
        AND {new}.wrapped_key = {old}.wrapped_key
        AND {old}.encrypted_personal_data <> '' AND {new}.encrypted_personal_data <> '')"""
    return f"""(
        (({key_changed} OR {token_changed}) AND NOT ({erasure} OR {rewrapped} OR {approval}))
        OR ({new}.wrapped_key <> '' AND {key_changed} AND EXISTS (
            SELECT 1 FROM accounting_payee other
             WHERE other.wrapped_key = {new}.wrapped_key AND other.id <> {new}.id))
        OR ({new}.encrypted_personal_data <> '' AND {token_changed} AND EXISTS (
            SELECT 1 FROM accounting_payee other
             WHERE other.encrypted_personal_data = {new}.encrypted_personal_data
               AND other.id <> {new}.id))
    )"""  # noqa: S608 - fixed table and column names # nosec B608


_PAYEE_NOT_DELETED = (
    "a payee is never deleted: its orders and files refer to it; deactivate it instead"
)
_PAYEE_NOT_APPROVED_AT_INSERT = (
    "a payee is never inserted already approved: a second treasurer approves it after registration"
)

# DELETE and INSERT are guarded too: otherwise an approved payee without orders could be
# deleted and inserted again with the same reference, key and token but another person
# (second review of issue #14, H1). The token also names the person (Payee.own_personal_data),
# for whoever drops these triggers.
#
# What no trigger can check: whether a new ``wrapped_key`` is a valid Fernet token under the
# master keys (SQL has no master key). A garbage key passes the rotation branch above; rotation
# and re-keying then skip that row and report it (fund.key_management), and
# ``check_production`` refuses to start while any stored key cannot be opened.
_PAYEE_SQLITE = [
    f"""
    CREATE TRIGGER accounting_payee_never_edited BEFORE UPDATE ON accounting_payee
    WHEN {_payee_change_refused("OLD", "NEW", "IS NOT")}
    BEGIN
        SELECT RAISE(ABORT, '{_PAYEE_REFUSAL}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_payee_never_deleted BEFORE DELETE ON accounting_payee
    BEGIN
        SELECT RAISE(ABORT, '{_PAYEE_NOT_DELETED}');
    END
    """,
    f"""
    CREATE TRIGGER accounting_payee_inserted_unapproved BEFORE INSERT ON accounting_payee
    WHEN NEW.approved_by_id IS NOT NULL OR NEW.approved_at IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, '{_PAYEE_NOT_APPROVED_AT_INSERT}');
    END
    """,
]

_PAYEE_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS accounting_payee_never_edited",
    "DROP TRIGGER IF EXISTS accounting_payee_never_deleted",
    "DROP TRIGGER IF EXISTS accounting_payee_inserted_unapproved",
]

_PAYEE_PG = [
    f"""
    CREATE OR REPLACE FUNCTION accounting_payee_never_edited() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF {_payee_change_refused("OLD", "NEW", "IS DISTINCT FROM")} THEN
            RAISE EXCEPTION '{_PAYEE_REFUSAL} (payee %)', OLD.reference
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER accounting_payee_never_edited BEFORE UPDATE ON accounting_payee
    FOR EACH ROW EXECUTE FUNCTION accounting_payee_never_edited()
    """,
    f"""
    CREATE OR REPLACE FUNCTION accounting_payee_never_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_PAYEE_NOT_DELETED} (payee %)', OLD.reference
            USING ERRCODE = 'check_violation';
    END $$
    """,
    """
    CREATE TRIGGER accounting_payee_never_deleted BEFORE DELETE ON accounting_payee
    FOR EACH ROW EXECUTE FUNCTION accounting_payee_never_deleted()
    """,
    f"""
    CREATE OR REPLACE FUNCTION accounting_payee_inserted_unapproved() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.approved_by_id IS NOT NULL OR NEW.approved_at IS NOT NULL THEN
            RAISE EXCEPTION '{_PAYEE_NOT_APPROVED_AT_INSERT} (payee %)', NEW.reference
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER accounting_payee_inserted_unapproved BEFORE INSERT ON accounting_payee
    FOR EACH ROW EXECUTE FUNCTION accounting_payee_inserted_unapproved()
    """,
]

_PAYEE_PG_DROP = [
    "DROP TRIGGER IF EXISTS accounting_payee_never_edited ON accounting_payee",
    "DROP FUNCTION IF EXISTS accounting_payee_never_edited()",
    "DROP TRIGGER IF EXISTS accounting_payee_never_deleted ON accounting_payee",
    "DROP FUNCTION IF EXISTS accounting_payee_never_deleted()",
    "DROP TRIGGER IF EXISTS accounting_payee_inserted_unapproved ON accounting_payee",
    "DROP FUNCTION IF EXISTS accounting_payee_inserted_unapproved()",
]


PAYEE_GUARD = TriggerSet(
    "payee guard", _PAYEE_SQLITE, _PAYEE_SQLITE_DROP, _PAYEE_PG, _PAYEE_PG_DROP
)


def install_payee_guard(connection: Any) -> None:
    """The database refuses edits of a payee (see :func:`_payee_change_refused`)."""
    PAYEE_GUARD.install(connection)


def uninstall_payee_guard(connection: Any) -> None:
    PAYEE_GUARD.uninstall(connection)


def purge_ledger(connection: Any) -> None:
    """Tests only: empty the ledger and the payees (guards dropped for the moment, then
    reinstalled)."""
    from django.db import transaction

    from accounting import reference_guards, year_end_guards

    with transaction.atomic(using=connection.alias):
        uninstall(connection)
        reference_guards.uninstall(connection)
        year_end_guards.uninstall(connection)
        uninstall_payee_guard(connection)
        with connection.cursor() as cursor:
            for table in PURGE_ORDER:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names # nosec B608
        install(connection)
        reference_guards.install(connection)
        year_end_guards.install(connection)
        install_payee_guard(connection)
