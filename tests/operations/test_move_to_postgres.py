"""Issue #18: moving from the embedded mode (SQLite, key files) to production (PostgreSQL,
environment keys) carries every row and every key, in one transaction.

An embedded world is built in a SQLite file by its own process (tests/operations/
embedded_world.py: keys generated into its var/keys/, cases paid, periods closed, a
checkpoint); each test moves it into a fresh PostgreSQL database of its own, made from a
migrated template and dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Embedded:
    database: Path
    var: Path
    person: str

    def env(self) -> dict[str, str]:
        return {
            **_base_env(),
            "DEBUG": "1",
            "FUNDFLOW_VAR_DIR": str(self.var),
            "DATABASE_URL": f"sqlite:///{self.database}",
        }


def _base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "POSTGRES_TEST", "FIELD_ENCRYPTION"))
        and not k.startswith(("AUDIT_", "BLIND_INDEX"))
        and k not in ("SECRET_KEY", "FUNDFLOW_VAR_DIR", "GENERATE_MISSING_KEYS")
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(settings.BASE_DIR)})
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def _conninfo() -> dict[str, str]:
    params = connection.settings_dict
    return {
        "host": params["HOST"] or "127.0.0.1",
        "port": str(params["PORT"] or 5432),
        "user": params["USER"],
        "password": params["PASSWORD"] or "",
    }


def _url(name: str) -> str:
    c = _conninfo()
    return f"postgres://{c['user']}:{c['password']}@{c['host']}:{c['port']}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **_conninfo()) as admin:
        admin.execute(sql)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Embedded:
    root = tmp_path_factory.mktemp("embedded")
    world = Embedded(root / "db.sqlite3", root / "var", "")
    output = _ok(_run(["-m", "tests.operations.embedded_world"], world.env()))
    return Embedded(world.database, world.var, output.split("PERSON ")[-1].strip())


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database as `manage.py migrate` leaves it, copied for each test."""
    name = f"fundflow_move_tpl_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        var = tmp_path_factory.mktemp("template-var")
        env = {
            **_base_env(),
            "DEBUG": "1",
            "FUNDFLOW_VAR_DIR": str(var),
            "DATABASE_URL": _url(name),
        }
        _ok(_run(["manage.py", "migrate", "--verbosity", "0"], env))
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target(migrated_template: str) -> Iterator[str]:
    """A fresh, migrated, empty PostgreSQL database of this test's own."""
    name = f"fundflow_move_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    try:
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def production(embedded: Embedded, tmp_path: Path) -> dict[str, str]:
    """The keys from keys_to_environment as environment keys; no key file where settings look."""
    keys_file = tmp_path / "keys.env"
    _ok(_run(["manage.py", "keys_to_environment", "--to", str(keys_file)], embedded.env()))
    keys = dict(
        line.split("=", 1)
        for line in keys_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    # The signing key stays a file: moved out of var/keys/ as the command says.
    signer = tmp_path / "etc"
    signer.mkdir()
    for name in ("audit-signing.pem", "audit-signing.pub.pem"):
        shutil.copy2(embedded.var / "keys" / name, signer / name)
    return {
        **_base_env(),
        **keys,
        "DEBUG": "1",
        "GENERATE_MISSING_KEYS": "0",
        "FUNDFLOW_VAR_DIR": str(tmp_path / "production-var"),
        "AUDIT_SIGNING_KEY_FILE": str(signer / "audit-signing.pem"),
        "AUDIT_PUBLIC_KEY_FILE": str(signer / "audit-signing.pub.pem"),
    }


def _move(source: Path, target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(
        ["manage.py", "move_to_postgres", "--from", str(source)],
        {**env, "DATABASE_URL": _url(target)},
    )


def _sqlite_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def _pg_rows(name: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dbname=name, **_conninfo()) as db:
        return db.execute(sql).fetchall()


def _tables(path: Path) -> list[str]:
    rows = _sqlite_rows(
        path,
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT IN ('sqlite_sequence', 'django_migrations') ORDER BY name",
    )
    return [name for (name,) in rows]


def _counts_sqlite(path: Path) -> dict[str, int]:
    return {t: _sqlite_rows(path, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in _tables(path)}  # noqa: S608


def _counts_pg(name: str, tables: list[str]) -> dict[str, int]:
    return {t: _pg_rows(name, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables}  # noqa: S608


def test_moved_database_verifies_balances_decrypts_and_finds_the_duplicate_personnummer(
    embedded: Embedded, target: str, production: dict[str, str]
) -> None:
    output = _ok(_move(embedded.database, target, production))
    for check in ("row counts", "audit chain", "trial balance", "people decrypt"):
        assert f"ok    {check}:" in output, output
    assert f"ok    duplicate detection: the personnummer of {embedded.person} finds" in output
    assert "FAIL" not in output

    # Every row of every table, counted on both sides (the move's own event comes on top).
    before = _counts_sqlite(embedded.database)
    after = _counts_pg(target, list(before))
    assert sum(before.values()) > 400
    events = before.pop("audit_auditevent")
    assert after.pop("audit_auditevent") == events + 1
    assert after == before
    # Stored bytes arrive as stored: hashes, tokens, the blind index, amounts with currency.
    for table, columns in (
        ("audit_auditevent", "sequence, hash, prev_hash, action, object_ref"),
        (
            "fund_beneficiary",
            "id, reference, wrapped_key, encrypted_personal_data, personnummer_index",
        ),
        ("fund_needitem", "id, encrypted_description, requested_amount, requested_amount_currency"),
        ("accounting_payee", "id, reference, wrapped_key, encrypted_personal_data"),
        ("accounting_posting", "id, voucher_id, account_id, amount, amount_currency"),
    ):
        sql = f"SELECT {columns} FROM {table} ORDER BY 1"  # noqa: S608
        moved = [tuple(str(v) for v in row) for row in _pg_rows(target, sql)]
        stored = [tuple(str(v) for v in row) for row in _sqlite_rows(embedded.database, sql)]
        if table == "audit_auditevent":
            moved = moved[: len(stored)]
        if table in ("fund_needitem", "accounting_posting"):  # SQLite keeps 1500.50 as 1500.5
            moved = [(*row[:-2], str(float(row[-2])), row[-1]) for row in moved]
            stored = [(*row[:-2], str(float(row[-2])), row[-1]) for row in stored]
        assert moved == stored, table
        assert stored, table

    # As production runs: environment keys only, no key file where the settings look.
    key_files = [
        Path(production["FUNDFLOW_VAR_DIR"]) / "keys" / name
        for name in ("field-encryption.key", "blind-index.key")
    ]
    assert not any(path.exists() for path in key_files)
    check = _ok(
        _run(
            ["-m", "tests.operations.moved_world_check", embedded.person],
            {**production, "DATABASE_URL": _url(target)},
        )
    )
    found = dict(line.split("=", 1) for line in check.splitlines() if "=" in line)
    assert found["chain_ok"] == "True"
    assert int(found["chain_entries"]) == events + 1
    assert found["balance"] in ("0", "0.00")
    assert "Flytta Flyttsson" in found["names"].split("|")
    assert found["duplicate_of"] == embedded.person
    assert found["people"] == "3"
    assert found["newcomer_after_moved"] == "True"
    # The guards lifted for the copy hold again: the moved log cannot be rewritten.
    assert _pg_rows(target, "SELECT tgname FROM pg_trigger WHERE tgenabled <> 'O'") == []
    with pytest.raises(psycopg.Error, match="append-only"):
        _pg_rows(target, "UPDATE audit_auditevent SET action = 'x' WHERE sequence = 1")
    assert not any(path.exists() for path in key_files)  # none generated on the way


def test_move_refuses_a_target_that_holds_data_naming_the_tables(
    embedded: Embedded, target: str, production: dict[str, str]
) -> None:
    _ok(_move(embedded.database, target, production))
    counts = _counts_pg(target, _tables(embedded.database))

    again = _move(embedded.database, target, production)

    assert again.returncode != 0
    assert "The target database is not empty" in again.stderr
    for table in ("auth_user", "audit_auditevent", "fund_beneficiary", "accounting_posting"):
        assert table in again.stderr
    assert "django_content_type" not in again.stderr  # what migrate makes is not data
    assert _counts_pg(target, list(counts)) == counts


def _last_copied_table_with_text(database: Path) -> tuple[str, str, int]:
    """The last table the move copies that holds rows, and a length-limited text column."""
    from django.db import models

    from operations.move import moved_models

    for model in reversed(moved_models()):
        table = model._meta.db_table
        if not _sqlite_rows(database, f'SELECT 1 FROM "{table}" LIMIT 1'):  # noqa: S608
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, models.CharField) and field.max_length and not field.choices:
                return table, field.column, field.max_length
    raise AssertionError("no table with rows and a text column")


def test_a_move_that_fails_midway_leaves_the_target_as_migrate_left_it(
    embedded: Embedded, target: str, production: dict[str, str], tmp_path: Path
) -> None:
    # A value SQLite kept but PostgreSQL refuses, in the last table copied: everything
    # before it was inserted when the move fails.
    broken = tmp_path / "broken.sqlite3"
    shutil.copy2(embedded.database, broken)
    table, column, max_length = _last_copied_table_with_text(broken)
    with sqlite3.connect(broken) as db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            db.execute(f'DROP TRIGGER "{trigger}"')
        db.execute(
            f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = (SELECT MIN(rowid) FROM "{table}")',  # noqa: S608
            ["x" * (max_length + 1)],
        )
    tables = _tables(broken)
    as_migrated = _counts_pg(target, tables)

    result = _move(broken, target, production)

    assert result.returncode != 0
    assert "rolled back" in result.stderr and f"Copying {table} failed" in result.stderr
    assert _counts_pg(target, tables) == as_migrated
    assert sum(as_migrated.values()) > 0  # the chart and roles migrate made are still there
    disabled = _pg_rows(
        target, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'"
    )
    assert disabled == []


def test_move_refuses_an_embedded_database_migrated_by_other_code(
    embedded: Embedded, target: str, production: dict[str, str], tmp_path: Path
) -> None:
    behind = tmp_path / "behind.sqlite3"
    shutil.copy2(embedded.database, behind)
    with sqlite3.connect(behind) as db:
        db.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT MAX(id) FROM django_migrations)"
        )
    as_migrated = _counts_pg(target, _tables(behind))

    result = _move(behind, target, production)

    assert result.returncode != 0
    assert "The embedded database misses migrations" in result.stderr
    assert _counts_pg(target, list(as_migrated)) == as_migrated


def test_move_without_the_keys_is_rolled_back_naming_the_missing_key(
    embedded: Embedded, target: str, production: dict[str, str]
) -> None:
    keyless = {
        k: v for k, v in production.items() if k not in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
    }
    as_migrated = _counts_pg(target, _tables(embedded.database))

    result = _move(embedded.database, target, keyless)

    assert result.returncode != 0
    assert "rolled back" in result.stderr
    missing = Path(production["FUNDFLOW_VAR_DIR"]) / "keys" / "field-encryption.key"
    assert f"No field-encryption key at {missing}" in result.stderr
    assert not missing.exists()
    assert _counts_pg(target, list(as_migrated)) == as_migrated


def test_move_under_another_blind_index_key_is_rolled_back_as_duplicates_would_go_unfound(
    embedded: Embedded, target: str, production: dict[str, str]
) -> None:
    wrong = {**production, "BLIND_INDEX_KEY": "another-key-than-the-indexes-were-made-with-0"}
    as_migrated = _counts_pg(target, _tables(embedded.database))

    result = _move(embedded.database, target, wrong)

    assert result.returncode != 0
    assert "FAIL  duplicate detection" in result.stdout
    assert "ok    people decrypt" in result.stdout  # the field key was right
    assert "Not proved: duplicate detection" in result.stderr
    assert _counts_pg(target, list(as_migrated)) == as_migrated
