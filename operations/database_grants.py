"""The application's PostgreSQL role: the rights it is given after each migration, and checked.

Migrations run as the owner; the application runs as a role that owns nothing (so it cannot
drop the append-only triggers), cannot create anything in the schema, reads and writes every
table, and may not UPDATE, DELETE or TRUNCATE the audit log or the ledger. A GRANT reaches
only the tables that exist when it runs, so ``make migrate-prod`` applies them after every
``migrate`` (:func:`apply_database_grants`), and ``check_production`` refuses to start while
the running role could change the schema or an append-only table, or could not use a table a
migration added (:func:`database_role_problems`).

Both take the connection to work on: the grants run as the owner, the check reads the role
of the connection it is given (the application's own, in production).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.append_only import append_only_tables

#: Where each refusal points: the Makefile target that migrates and applies the grants.
FIX = "Run `make migrate-prod` (README, Deployment → PostgreSQL roles)."

#: How many tables a message names; the count covers them all.
NAMED_TABLES = 10

#: pg_class.relkind: tables (plain, partitioned), sequences, and all a role could own.
_TABLES = ["r", "p"]
_SEQUENCES = ["S"]
_OWNED_KINDS = ["r", "p", "v", "m", "S", "f"]


def quote_identifier(name: str) -> str:
    """A role, schema or database name as SQL (names come from settings, never from input)."""
    return '"' + name.replace('"', '""') + '"'


def _named(tables: list[str]) -> str:
    more = ", …" if len(tables) > NAMED_TABLES else ""
    return ", ".join(tables[:NAMED_TABLES]) + more


@dataclass(frozen=True)
class GrantsApplied:
    """What :func:`apply_database_grants` did, to be printed (names and counts only)."""

    app_role: str
    schema: str
    database: str
    tables: int
    sequences: int
    append_only: tuple[str, ...]
    not_migrated: tuple[str, ...]

    def lines(self) -> list[str]:
        role = self.app_role
        lines = [
            f"Role {role}: CONNECT on database {self.database}, USAGE on schema {self.schema}.",
            f"Role {role}: SELECT, INSERT, UPDATE, DELETE on {self.tables} tables and USAGE, "
            f"SELECT on {self.sequences} sequences in schema {self.schema} (nothing else).",
            f"Role {role}: no UPDATE, DELETE or TRUNCATE on the {len(self.append_only)} "
            f"append-only tables ({', '.join(self.append_only)}).",
            f"No CREATE on schema {self.schema} nor on database {self.database} for {role} "
            "or PUBLIC.",
        ]
        if self.not_migrated:
            lines.append(
                f"Append-only tables not in the database yet ({', '.join(self.not_migrated)}): "
                "run `manage.py migrate` first, then this again."
            )
        return lines


class RoleRefused(Exception):
    """The named role cannot be the application's: nothing was changed."""


def _one(cursor: Any, sql: str, params: list[Any] | None = None) -> Any:
    cursor.execute(sql, params or [])
    return cursor.fetchone()


def _all(cursor: Any, sql: str, params: list[Any] | None = None) -> list[Any]:
    cursor.execute(sql, params or [])
    return list(cursor.fetchall())


def _schema_relations(cursor: Any, schema: str, kinds: list[str]) -> list[str]:
    return [
        row[0]
        for row in _all(
            cursor,
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind::text = ANY(%s) ORDER BY c.relname",
            [schema, kinds],
        )
    ]


def apply_database_grants(connection: Any, *, app_role: str) -> GrantsApplied:
    """Give ``app_role`` exactly what the application needs; run as the owner.

    Everything on the tables and sequences is revoked first and granted again, so a right
    given by hand (TRUNCATE, TRIGGER, UPDATE on the audit log) does not survive; re-running it
    changes nothing. The caller runs it in one transaction (the command does), so the
    application never sees the moment between the REVOKE and the GRANT.
    """
    role = quote_identifier(app_role)
    with connection.cursor() as cursor:
        current, schema, database = _one(
            cursor, "SELECT current_user, current_schema(), current_database()"
        )
        found = _one(cursor, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", [app_role])
        if found is None:
            raise RoleRefused(
                f"The role {app_role} does not exist: create it (CREATE ROLE {app_role} LOGIN "
                "PASSWORD '…', README, Deployment → PostgreSQL roles) or set DATABASE_APP_ROLE "
                "to the role in the application's DATABASE_URL."
            )
        if app_role == current:
            raise RoleRefused(
                f"The application role {app_role} is the role this command runs as: run it as "
                "the owner (DATABASE_URL=$MIGRATION_DATABASE_URL) and name the application's "
                "role in DATABASE_APP_ROLE (or APP_DATABASE_URL)."
            )
        if found[0]:
            raise RoleRefused(
                f"The application role {app_role} is a superuser: no grant restricts it. "
                f"ALTER ROLE {app_role} NOSUPERUSER, then run this again."
            )
        present = set(_schema_relations(cursor, schema, _TABLES))
        guarded = append_only_tables()
        revoked = tuple(table for table in guarded if table in present)
        on_schema, on_database = quote_identifier(schema), quote_identifier(database)
        statements = [
            f"GRANT CONNECT ON DATABASE {on_database} TO {role}",
            f"REVOKE CREATE ON DATABASE {on_database} FROM PUBLIC, {role}",
            f"REVOKE CREATE ON SCHEMA {on_schema} FROM PUBLIC, {role}",
            f"GRANT USAGE ON SCHEMA {on_schema} TO {role}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {on_schema} FROM {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {on_schema} TO {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {on_schema} FROM {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {on_schema} TO {role}",
        ]
        if revoked:
            tables = ", ".join(f"{on_schema}.{quote_identifier(t)}" for t in revoked)
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}")
        for statement in statements:
            cursor.execute(statement)
        sequences = _schema_relations(cursor, schema, _SEQUENCES)
    return GrantsApplied(
        app_role=app_role,
        schema=schema,
        database=database,
        tables=len(present),
        sequences=len(sequences),
        append_only=revoked,
        not_migrated=tuple(table for table in guarded if table not in present),
    )


def database_role_problems(connection: Any, role: str | None = None) -> list[str]:
    """Why ``role`` (by default the connection's own) must not run the application.

    It must not change the schema (superuser, owner of a relation, CREATE on the schema or the
    database), must not UPDATE, DELETE or TRUNCATE an append-only table, and must SELECT and
    INSERT on every table (a migration's new table without its grants fails at first use).
    """
    with connection.cursor() as cursor:
        current, schema, database = _one(
            cursor, "SELECT current_user, current_schema(), current_database()"
        )
        role = role or current
        found = _one(cursor, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        if found is None:
            return [f"The database role {role} does not exist. {FIX}"]
        if found[0]:
            return [
                f"The application's database role {role} is a superuser: it could change the "
                "schema, drop the append-only triggers and rewrite the audit log and the "
                "ledger. Run the application as a role of its own, neither superuser nor owner. "
                f"{FIX}"
            ]
        return (
            _schema_change_problems(cursor, role, schema, database)
            + _append_only_problems(cursor, role, schema)
            + _missing_grant_problems(cursor, role, schema)
        )


def _schema_change_problems(cursor: Any, role: str, schema: str, database: str) -> list[str]:
    problems: list[str] = []
    owned = [
        row[0]
        for row in _all(
            cursor,
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind::text = ANY(%s) AND pg_has_role(%s, c.relowner, 'MEMBER') "
            "ORDER BY c.relname",
            [schema, _OWNED_KINDS, role],
        )
    ]
    if owned:
        problems.append(
            f"The application's database role {role} owns {len(owned)} tables or sequences "
            f"({_named(owned)}): an owner can drop the append-only triggers and alter or drop "
            f"the tables. Let the migration role own them (ALTER TABLE … OWNER TO the owner, "
            f"or REASSIGN OWNED BY {role} TO the owner). {FIX}"
        )
    triggers = [
        row[0]
        for row in _all(
            cursor,
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind::text = ANY(%s) AND has_table_privilege(%s, c.oid, 'TRIGGER') "
            "ORDER BY c.relname",
            [schema, _TABLES, role],
        )
    ]
    if triggers:
        problems.append(
            f"The application's database role {role} may create triggers on {len(triggers)} "
            f"tables ({_named(triggers)}): it could change what the database does on a write. "
            f"{FIX}"
        )
    on_schema, on_database = _one(
        cursor,
        "SELECT has_schema_privilege(%s, %s, 'CREATE'), has_database_privilege(%s, %s, 'CREATE')",
        [role, schema, role, database],
    )
    where = [
        name
        for name, allowed in (
            (f"schema {schema}", on_schema),
            (f"database {database}", on_database),
        )
        if allowed
    ]
    if where:
        problems.append(
            f"The application's database role {role} may CREATE in the {' and the '.join(where)}"
            f" (granted to it or to PUBLIC): it could add objects the migrations do not know. "
            f"{FIX}"
        )
    return problems


def _append_only_problems(cursor: Any, role: str, schema: str) -> list[str]:
    rows = _all(
        cursor,
        "SELECT c.relname, has_table_privilege(%s, c.oid, 'UPDATE'), "
        "has_table_privilege(%s, c.oid, 'DELETE'), has_table_privilege(%s, c.oid, 'TRUNCATE') "
        "FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s) "
        "ORDER BY c.relname",
        [role, role, role, schema, list(append_only_tables())],
    )
    operations = ("UPDATE", "DELETE", "TRUNCATE")
    writable = [
        f"{name} ({', '.join(op for op, held in zip(operations, rights, strict=True) if held)})"
        for name, *rights in rows
        if any(rights)
    ]
    if not writable:
        return []
    return [
        f"The application's database role {role} may change append-only tables "
        f"({'; '.join(writable)}): it could rewrite the audit log or the ledger. {FIX}"
    ]


def _missing_grant_problems(cursor: Any, role: str, schema: str) -> list[str]:
    problems: list[str] = []
    tables = [
        row[0]
        for row in _all(
            cursor,
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind IN ('r', 'p') AND NOT (has_table_privilege(%s, c.oid, 'SELECT') "
            "AND has_table_privilege(%s, c.oid, 'INSERT')) ORDER BY c.relname",
            [schema, role, role],
        )
    ]
    if tables:
        problems.append(
            f"The application's database role {role} cannot SELECT or INSERT on {len(tables)} "
            f"tables ({_named(tables)}): a migration added them after the grants were last "
            f"applied, and every page using them would fail. {FIX}"
        )
    sequences = [
        row[0]
        for row in _all(
            cursor,
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            # CASE: the planner may test the privilege before the relkind otherwise.
            "AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(%s, c.oid, 'USAGE') "
            "ELSE false END ORDER BY c.relname",
            [schema, role],
        )
    ]
    if sequences:
        problems.append(
            f"The application's database role {role} cannot use {len(sequences)} sequences "
            f"({_named(sequences)}). {FIX}"
        )
    return problems
