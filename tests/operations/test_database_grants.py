"""The application role's grants follow every migration, and production refuses a role that
could change the schema or rewrite history (issue #18, "Failing well": GRANT/REVOKE re-run by
hand after each migration).

The suite's own PostgreSQL connection is a superuser. The tests create the application's
role (and, where a test needs one, a role to own tables) and act as it: one test logs in as
the role over a connection of its own; the others ``SET ROLE`` inside the test's transaction,
which rolls the roles and the grants back with everything else.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounting import db_guards
from audit import triggers
from core.append_only import append_only_tables
from operations.database_grants import database_role_problems
from operations.production_checks import production_problems
from tests.config.test_deploy_settings import _manage

#: The append-only tables as issue #18 names them: the audit log and the ledger.
AUDIT_AND_LEDGER = (
    "accounting_posting",
    "accounting_voucher",
    "accounting_voucherseal",
    "audit_auditcheckpoint",
    "audit_auditevent",
    "audit_audittimestamp",
)


def _new_role_name(kind: str) -> str:
    """Roles are cluster-wide and other test runs share the cluster: a name of its own."""
    return f"fundflow_test_{kind}_{secrets.token_hex(4)}"


def _execute(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _refused_as_role(sql: str) -> str:
    """Run ``sql`` as the current role in a savepoint; the database's refusal, as text."""
    with pytest.raises(Exception) as caught, transaction.atomic():
        _execute(sql)
    return str(caught.value)


@pytest.fixture
def app_role(db: None) -> str:
    """An application role, created in the test's transaction (rolled back with it)."""
    role = _new_role_name("app")
    _execute(f"CREATE ROLE {role} NOLOGIN")
    return role


@pytest.fixture
def as_role(db: None) -> Iterator[Any]:
    """``as_role(name)``: the test's connection acts as ``name`` until the test ends.

    The test's transaction is rolled back at its end, and the SET ROLE with it; the RESET is
    for a transaction still usable, to be sure.
    """

    def switch(role: str) -> None:
        _execute(f"SET ROLE {role}")

    yield switch
    with contextlib.suppress(DatabaseError):
        _execute("RESET ROLE")


def _apply(app_role: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("apply_database_grants", app_role=app_role, stdout=out)
    return out.getvalue()


# --- the command, and what the application role can do afterwards ----------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_migrate_prod_the_app_role_inserts_a_case_but_cannot_rewrite_history(world):
    """Logged in as the application role over its own connection, after the command."""
    app = world.new_application("1500")
    role, password = _new_role_name("app"), secrets.token_urlsafe(16)
    _execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", [password])
    settings_dict = connection.settings_dict
    app_connection = None
    try:
        _apply(role)
        app_connection = psycopg.connect(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=settings_dict["PORT"] or 5432,
            dbname=settings_dict["NAME"],
            user=role,
            password=password,
        )
        with app_connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO fund_application (state, completion_return_state, reference, "
                "fund_id, beneficiary_id, ombud_id, created_at, updated_at) "
                "VALUES ('draft', '', %s, %s, %s, %s, now(), now()) RETURNING id",
                ["GRANTS-TEST-1", app.fund_id, app.beneficiary_id, app.ombud_id],
            )
            assert cursor.fetchone() is not None
        app_connection.rollback()
        refusals = {}
        for name, sql in {
            "update an audit event": "UPDATE audit_auditevent SET action = 'x'",
            "drop a table": "DROP TABLE fund_application",
            "alter a table": "ALTER TABLE fund_application ADD COLUMN x int",
            "truncate the ledger": "TRUNCATE accounting_posting",
            "create a table": "CREATE TABLE fund_shadow (id int)",
        }.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
                app_connection.execute(sql)
            app_connection.rollback()
            refusals[name] = str(caught.value)
        assert "permission denied for table audit_auditevent" in refusals["update an audit event"]
        assert "must be owner of table fund_application" in refusals["drop a table"]
        assert "must be owner of table fund_application" in refusals["alter a table"]
        assert "permission denied for table accounting_posting" in refusals["truncate the ledger"]
        assert "permission denied for schema public" in refusals["create a table"]
        assert database_role_problems(app_connection) == []
    finally:
        if app_connection is not None:
            app_connection.close()
        _execute(f"DROP OWNED BY {role}")
        _execute(f"DROP ROLE {role}")


@pytest.mark.postgres
def test_the_owner_runs_apply_database_grants_without_being_a_superuser(app_role, as_role):
    """As `make migrate-prod` does: a plain role owning the database and its tables."""
    owner = _new_role_name("owner")
    _execute(f"CREATE ROLE {owner} NOLOGIN")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
        cursor.execute(f'ALTER DATABASE "{database}" OWNER TO {owner}')
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        for (table,) in cursor.fetchall():  # their sequences follow the tables
            cursor.execute(f'ALTER TABLE public."{table}" OWNER TO {owner}')
    as_role(owner)
    output = _apply(app_role)
    assert f"Role {app_role}: rights as production needs them." in output
    as_role(app_role)
    assert database_role_problems(connection) == []
    assert "permission denied for table audit_auditevent" in _refused_as_role(
        "DELETE FROM audit_auditevent"
    )


@pytest.mark.postgres
def test_app_role_cannot_update_an_audit_event(world, app_role, as_role):
    world.new_application("1500")  # appends audit events
    _apply(app_role)
    as_role(app_role)
    refusal = _refused_as_role("UPDATE audit_auditevent SET action = 'x' WHERE sequence = 1")
    # Refused by the grants, before the append-only trigger would have been reached.
    assert "permission denied for table audit_auditevent" in refusal


@pytest.mark.postgres
def test_app_role_cannot_drop_or_alter_a_table(app_role, as_role):
    _apply(app_role)
    as_role(app_role)
    assert "must be owner" in _refused_as_role("DROP TABLE audit_auditevent")
    assert "must be owner" in _refused_as_role("ALTER TABLE fund_application DROP COLUMN state")
    assert "must be owner" in _refused_as_role(
        "DROP TRIGGER audit_auditevent_no_change ON audit_auditevent"
    )
    assert "permission denied for schema" in _refused_as_role("CREATE TABLE fund_shadow (id int)")


@pytest.mark.postgres
@pytest.mark.parametrize("table", AUDIT_AND_LEDGER)
def test_app_role_cannot_truncate_the_ledger_nor_the_audit_log(app_role, as_role, table):
    _apply(app_role)
    as_role(app_role)
    assert f"permission denied for table {table}" in _refused_as_role(f"TRUNCATE {table}")


@pytest.mark.postgres
def test_app_role_keeps_select_insert_update_delete_on_the_other_tables(app_role, as_role):
    _apply(app_role)
    as_role(app_role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM fund_application")
        cursor.execute("UPDATE fund_fund SET name = name WHERE id = -1")
        cursor.execute("DELETE FROM fund_fund WHERE id = -1")


@pytest.mark.postgres
def test_apply_database_grants_is_idempotent_and_prints_what_it_did_without_secrets(app_role):
    first = _apply(app_role)
    second = _apply(app_role)
    assert first == second
    assert "no UPDATE, DELETE or TRUNCATE on the 6 append-only tables" in first
    for table in AUDIT_AND_LEDGER:
        assert table in first
    assert f"Role {app_role}: rights as production needs them." in first
    settings_dict = connection.settings_dict
    # No connection string nor password: "user:password@" would be the way one slips out.
    assert f"{settings_dict['USER']}:{settings_dict['PASSWORD']}" not in first
    assert "postgres://" not in first
    assert "password" not in first.lower()


@pytest.mark.postgres
def test_apply_database_grants_refuses_to_grant_the_role_it_runs_as(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="is the role this command runs as"):
        _apply(owner)


@pytest.mark.postgres
def test_apply_database_grants_names_a_role_that_does_not_exist(db):
    with pytest.raises(CommandError, match="does not exist: create it"):
        _apply(_new_role_name("missing"))


def test_apply_database_grants_on_sqlite_says_there_are_no_roles():
    result = _manage("apply_database_grants", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "has no roles: nothing to grant" in result.stdout


def test_make_migrate_prod_migrates_then_applies_the_grants_both_as_the_owner():
    result = subprocess.run(
        ["make", "-n", "migrate-prod", "MIGRATION_DATABASE_URL=postgres://owner@db/fundflow"],
        capture_output=True,
        text=True,
        check=True,
    )
    # make -n prints each command with its backslash-newline continuations: join them.
    recipe = result.stdout.replace("\\\n", " ")
    commands = [line for line in recipe.splitlines() if "manage.py" in line]
    assert [line.split("manage.py ")[1] for line in commands] == [
        "migrate --noinput",
        "apply_database_grants",
    ]
    for line in commands:
        assert 'DATABASE_URL="${MIGRATION_DATABASE_URL' in line, line
    assert 'APP_DATABASE_URL="${DATABASE_URL:-}"' in commands[1]


def test_the_app_role_is_the_setting_else_the_application_database_url_s_user():
    show = ("shell", "-c", "from django.conf import settings; print(settings.DATABASE_APP_ROLE)")
    owner_url = "sqlite:///:memory:"  # stands for the owner's: the settings only parse it
    app_url = "postgres://fundflow_web:secret@db.example.org/fundflow"
    runs = {
        "explicit": _manage(*show, DATABASE_URL=owner_url, DATABASE_APP_ROLE="fundflow_api"),
        "from make migrate-prod": _manage(*show, DATABASE_URL=owner_url, APP_DATABASE_URL=app_url),
        "default": _manage(*show, DATABASE_URL=owner_url),
    }
    assert {name: run.stdout.split()[-1] for name, run in runs.items()} == {
        "explicit": "fundflow_api",
        "from make migrate-prod": "fundflow_web",
        "default": "fundflow_app",
    }


# --- the deploy check, on the connection it is given -----------------------------------------


@pytest.mark.postgres
def test_deploy_check_passes_when_the_grants_are_applied(app_role, as_role):
    _apply(app_role)
    as_role(app_role)
    assert database_role_problems(connection) == []


@pytest.mark.postgres
def test_deploy_check_fails_when_the_app_role_is_a_superuser(db, as_role):
    role = _new_role_name("super")
    _execute(f"CREATE ROLE {role} SUPERUSER NOLOGIN")
    as_role(role)
    problems = "\n".join(production_problems())
    assert f"The application's database role {role} is a superuser" in problems
    assert "make migrate-prod" in problems


@pytest.mark.postgres
def test_deploy_check_fails_when_a_revoke_on_an_append_only_table_is_missing(app_role, as_role):
    _apply(app_role)
    _execute(f"GRANT UPDATE, DELETE ON audit_auditevent TO {app_role}")
    _execute(f"GRANT TRUNCATE ON accounting_posting TO {app_role}")
    as_role(app_role)
    (problem,) = database_role_problems(connection)
    assert "may change append-only tables" in problem
    assert "accounting_posting (TRUNCATE)" in problem
    assert "audit_auditevent (UPDATE, DELETE)" in problem
    assert "make migrate-prod" in problem


@pytest.mark.postgres
def test_deploy_check_fails_when_a_table_added_by_a_migration_has_no_grants(app_role, as_role):
    _apply(app_role)
    _execute("CREATE TABLE fund_added_later (id int)")  # as a migration after the grants
    as_role(app_role)
    (problem,) = database_role_problems(connection)
    assert "cannot SELECT or INSERT on 1 tables (fund_added_later)" in problem
    assert "make migrate-prod" in problem
    _execute("RESET ROLE")
    _apply(app_role)
    as_role(app_role)
    assert database_role_problems(connection) == []


@pytest.mark.postgres
def test_deploy_check_fails_when_the_app_role_owns_a_table_or_may_create_triggers_or_tables(
    app_role, as_role
):
    _apply(app_role)
    _execute("CREATE TABLE fund_owned_by_app (id int)")
    _execute(f"ALTER TABLE fund_owned_by_app OWNER TO {app_role}")
    _execute(f"GRANT CREATE ON SCHEMA public TO {app_role}")
    _execute(f"GRANT TRIGGER ON fund_application TO {app_role}")
    as_role(app_role)
    problems = database_role_problems(connection)
    assert len(problems) == 3, problems
    assert "owns 1 tables or sequences (fund_owned_by_app)" in problems[0]
    assert "may create triggers on 2 tables (fund_application, fund_owned_by_app)" in problems[1]
    assert "may CREATE in the schema public" in problems[2]


@pytest.mark.postgres
def test_deploy_check_reads_the_role_of_the_connection_it_is_given(app_role):
    """The suite's own connection is a superuser: the check names it, not the setting's role."""
    _apply(app_role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (suite_role,) = cursor.fetchone()
    (problem,) = database_role_problems(connection)
    assert f"database role {suite_role} is a superuser" in problem
    assert database_role_problems(connection, app_role) == []


# --- one place names the append-only tables ---------------------------------------------------


def test_every_table_the_append_only_triggers_guard_is_revoked_from_the_app_role():
    """The models marked append-only are exactly the tables the audit and ledger triggers
    guard, so a new append-only table cannot be left writable by the grants."""
    guarded = set(triggers.PROTECTED_TABLES) | set(db_guards.IMMUTABLE_TABLES)
    assert set(append_only_tables()) == guarded == set(AUDIT_AND_LEDGER)
