"""Moving an embedded database (SQLite file) into PostgreSQL, row for row, in one transaction.

The embedded SQLite file is opened read-only as a second database alias; every table of
every installed app is copied into the (migrated, empty) PostgreSQL database named by
DATABASE_URL with its primary keys, values read and written through the model fields (so
money, JSON payloads, dates and encrypted tokens arrive exactly as stored), never through
``save()`` or signals. The copy and its proof (:mod:`operations.move_proof`) share one
transaction: a move that fails or does not prove leaves the target as ``migrate`` left it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

#: The alias the embedded file is opened under while it is copied.
SOURCE_ALIAS = "embedded_source"

#: Tables a fresh ``migrate`` fills (content types, permissions, roles, the BAS chart): the
#: target may hold these; the copy replaces them with the embedded database's own rows, so
#: ids that other rows point at (content types, accounts) stay the ones they point at.
MADE_BY_MIGRATIONS = frozenset(
    {
        "django_content_type",
        "auth_permission",
        "auth_group",
        "auth_group_permissions",
        "accounting_account",
        "accounting_dimension",
        "accounting_dimensionobject",
    }
)

#: Rows read and written per round trip.
CHUNK = 2000


class MoveRefused(Exception):
    """The move cannot start: nothing was written."""


class MoveFailed(Exception):
    """The copy or its proof failed: the transaction was rolled back, nothing was kept."""


@dataclass(frozen=True)
class CopiedTable:
    table: str
    rows: int


def moved_models() -> list[type[models.Model]]:
    """Every table of every installed app, each after the tables it points at.

    Foreign keys are deferred to COMMIT on PostgreSQL, so a cycle (rare) is only an order
    question; it is broken by name so the order is the same on every run.
    """
    candidates = sorted(
        (
            model
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        ),
        key=lambda model: model._meta.db_table,
    )
    depends_on = {
        model: {
            field.related_model._meta.concrete_model
            for field in model._meta.local_concrete_fields
            if field.remote_field is not None
            and isinstance(field.related_model, type)
            and field.related_model._meta.concrete_model is not model
        }
        for model in candidates
    }
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()
    while len(ordered) < len(candidates):
        ready = [m for m in candidates if m not in placed and depends_on[m] <= placed]
        if not ready:  # a cycle: take the first remaining table by name
            ready = [next(m for m in candidates if m not in placed)]
        for model in ready:
            ordered.append(model)
            placed.add(model)
    return ordered


@contextmanager
def embedded_source(path: Path) -> Iterator[BaseDatabaseWrapper]:
    """The SQLite file as a read-only database alias, closed and forgotten afterwards."""
    if not path.is_file():
        raise MoveRefused(f"No embedded database at {path}.")
    connections.databases[SOURCE_ALIAS] = {
        **connections.databases["default"],
        "ENGINE": "django.db.backends.sqlite3",
        # mode=ro: the move can never write to the file it reads.
        "NAME": f"file:{path.resolve()}?mode=ro",
        "USER": "",
        "PASSWORD": "",  # nosec B105 - a SQLite file has no password
        "HOST": "",
        "PORT": "",
        "OPTIONS": {},
        "TEST": {},
        "CONN_MAX_AGE": 0,
        "ATOMIC_REQUESTS": False,
    }
    try:
        yield connections[SOURCE_ALIAS]
    finally:
        connections[SOURCE_ALIAS].close()
        del connections[SOURCE_ALIAS]
        connections.databases.pop(SOURCE_ALIAS, None)


def applied_migrations(connection: BaseDatabaseWrapper) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return {(app, name) for app, name in cursor.fetchall()}


def migration_problems(source: BaseDatabaseWrapper, target: BaseDatabaseWrapper) -> list[str]:
    """Both databases must be at the same migrations, those of the code that runs the move."""
    in_source, in_target = applied_migrations(source), applied_migrations(target)
    problems = []
    if only_source := sorted(in_source - in_target):
        problems.append(
            "The target misses migrations the embedded database has "
            f"({', '.join(f'{a}.{n}' for a, n in only_source[:5])}): run `manage.py migrate` "
            "on the target with this code first."
        )
    if only_target := sorted(in_target - in_source):
        problems.append(
            "The embedded database misses migrations "
            f"({', '.join(f'{a}.{n}' for a, n in only_target[:5])}): migrate it with this code "
            "(`make migrate` in embedded mode) before moving it."
        )
    return problems


def tables_holding_data(target: BaseDatabaseWrapper, tables: list[str]) -> list[str]:
    """The target's tables that hold rows a fresh ``migrate`` would not have made."""
    quote = target.ops.quote_name
    found = []
    with target.cursor() as cursor:
        for table in tables:
            if table in MADE_BY_MIGRATIONS:
                continue
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # noqa: S608 # nosec B608 - quoted table names from the models
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def row_count(connection: BaseDatabaseWrapper, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 # nosec B608 - quoted table names from the models
        count: int = cursor.fetchone()[0]
        return count


def _tables_with_user_triggers(target: BaseDatabaseWrapper, tables: list[str]) -> list[str]:
    with target.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(%s)",
            [tables],
        )
        found = {name for (name,) in cursor.fetchall()}
    return [table for table in tables if table in found]


def disabled_user_triggers(target: BaseDatabaseWrapper, tables: list[str]) -> list[str]:
    """Names of the user triggers (the guards) on ``tables`` that are not enabled."""
    with target.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname || '.' || t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'O' AND c.relname = ANY(%s) "
            "ORDER BY 1",
            [tables],
        )
        return [name for (name,) in cursor.fetchall()]


@contextmanager
def guards_lifted(target: BaseDatabaseWrapper, tables: list[str]) -> Iterator[int]:
    """The tables' own triggers off while history is copied in, on again before COMMIT.

    Plain inserts do not all pass the ledger's insert guards: a posting of a sealed voucher,
    a voucher in a closed period or locked year, a payee approved at insert — history as it
    happened — are refused, and the AFTER INSERT triggers would add rows the copy brings
    anyway. ALTER TABLE is transactional: a rolled-back move leaves every trigger as it was.
    Needs the tables' owner (the migration role).
    """
    guarded = _tables_with_user_triggers(target, tables)
    quote = target.ops.quote_name
    with target.cursor() as cursor:
        for table in guarded:
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
        yield len(guarded)
        for table in guarded:
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")


def _copy_table(
    model: type[models.Model], source: BaseDatabaseWrapper, target: BaseDatabaseWrapper
) -> int:
    """Every row of ``model``'s table, primary keys kept, values through the fields.

    Read with the source's converters (SQLite's 0/1 become booleans, text becomes dates and
    JSON) and written with the target's preparation (Jsonb, timestamptz); no ``save()``, no
    ``pre_save`` (an ``auto_now`` field keeps its stored time), no signals.
    """
    fields = list(model._meta.local_concrete_fields)
    quote = target.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 # nosec B608 - quoted table names from the models
    rows = (
        model._base_manager.using(source.alias)
        .order_by("pk")
        .values_list(*(field.attname for field in fields))
        .iterator(chunk_size=CHUNK)
    )
    copied = 0
    batch: list[list[Any]] = []
    with target.cursor() as cursor:
        for row in rows:
            batch.append(
                [
                    field.get_db_prep_save(value, connection=target)
                    for field, value in zip(fields, row, strict=True)
                ]
            )
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                copied += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            copied += len(batch)
    return copied


def copy_rows(
    source: BaseDatabaseWrapper, target: BaseDatabaseWrapper, ordered: list[type[models.Model]]
) -> list[CopiedTable]:
    """Replace what migrate made, copy every table, reset the sequences: in the caller's
    transaction, with the guards lifted by the caller."""
    quote = target.ops.quote_name
    with target.cursor() as cursor:
        for model in reversed(ordered):
            if model._meta.db_table in MADE_BY_MIGRATIONS:
                cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")  # noqa: S608 # nosec B608 - quoted table names from the models
    copied = []
    for model in ordered:
        table = model._meta.db_table
        try:
            copied.append(CopiedTable(table, _copy_table(model, source, target)))
        except DatabaseError as exc:
            raise MoveFailed(f"Copying {table} failed: {exc}".strip()) from exc
    with target.cursor() as cursor:
        for sql in target.ops.sequence_reset_sql(no_style(), ordered):
            cursor.execute(sql)
        # Foreign keys are checked now, inside the move, not at COMMIT with a bare error.
        try:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except DatabaseError as exc:
            raise MoveFailed(f"A row points at a row that was not copied: {exc}") from exc
    return copied


def count_mismatches(
    source: BaseDatabaseWrapper, target: BaseDatabaseWrapper, tables: list[str]
) -> list[str]:
    mismatches = []
    for table in tables:
        before, after = row_count(source, table), row_count(target, table)
        if before != after:
            mismatches.append(f"{table}: {before} in the embedded database, {after} moved")
    return mismatches


def start_move() -> None:
    """Refuse a target that is not PostgreSQL before opening anything."""
    target = connections["default"]
    if target.vendor != "postgresql":
        raise MoveRefused(
            "DATABASE_URL must name the target PostgreSQL database (it names a "
            f"{target.vendor} database)."
        )


def move_in_one_transaction(source: BaseDatabaseWrapper) -> tuple[list[CopiedTable], int]:
    """Check, copy and re-arm the guards; the caller proves the result in the same
    transaction. Returns the tables copied and how many tables' guards were lifted."""
    target = connections["default"]
    ordered = moved_models()
    tables = [model._meta.db_table for model in ordered]
    problems = migration_problems(source, target)
    if problems:
        raise MoveRefused(" ".join(problems))
    holding = tables_holding_data(target, tables)
    if holding:
        raise MoveRefused(
            "The target database is not empty: "
            + ", ".join(holding)
            + " hold data. Move into a freshly migrated database (createdb, then "
            "`manage.py migrate`); nothing was changed."
        )
    if not transaction.get_connection().in_atomic_block:
        raise MoveFailed("the move must run inside one transaction")
    with guards_lifted(target, tables) as lifted:
        copied = copy_rows(source, target, ordered)
    still_off = disabled_user_triggers(target, tables)
    if still_off:
        raise MoveFailed(f"Database guards left disabled: {', '.join(still_off)}.")
    mismatches = count_mismatches(source, target, tables)
    if mismatches:
        raise MoveFailed("Row counts differ: " + "; ".join(mismatches) + ".")
    return copied, lifted
