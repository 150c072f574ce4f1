"""Issue #14, "what it must show": a raw scan after erasing a person who had every kind of data.

The scenario (tests/fund/erasure_scenario.py) runs as its own process on a fresh database —
SQLite file or PostgreSQL database, whichever this suite runs on — with its own key, payout
and export folders and DEBUG logging. Afterwards the database's files, those folders and
everything the process logged are read as bytes: none of the person's values may be there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.fund import erasure_scenario


def _encodings(value: str) -> list[bytes]:
    return [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-8").hex().encode()]


def _found(blobs: dict[str, bytes]) -> list[str]:
    hits = []
    for what, value in erasure_scenario.SEARCHED.items():
        for where, blob in blobs.items():
            if any(encoded in blob for encoded in _encodings(value)):
                hits.append(f"{what} in {where}")
    return hits


def _run_scenario(env: dict[str, str]) -> tuple[str, bytes]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.fund.erasure_scenario"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output.decode(errors="replace")[-4000:]
    reference = result.stdout.decode().split("ERASED ")[-1].strip()
    return reference, output


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "POSTGRES_TEST", "FIELD_ENCRYPTION"))
        and k not in ("BLIND_INDEX_KEY", "SECRET_KEY")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "FUNDFLOW_VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "DEBUG",
            "PYTHONPATH": str(settings.BASE_DIR),
        }
    )
    return env


def _files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@contextmanager
def _scratch_postgres_database() -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database beside the test database, dropped afterwards."""
    params = connection.settings_dict
    name = f"fundflow_scan_{uuid.uuid4().hex[:10]}"
    conninfo = {
        "host": params["HOST"] or "127.0.0.1",
        "port": str(params["PORT"] or 5432),
        "user": params["USER"],
        "password": params["PASSWORD"] or "",
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, conninfo
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_relation_files(name: str, conninfo: dict[str, str]) -> dict[str, bytes]:
    """Every table, TOAST table and index file of the database, as written to disk."""
    with psycopg.connect(dbname=name, autocommit=True, **conninfo) as conn:
        conn.execute("CHECKPOINT")
        rows = conn.execute(
            "SELECT c.oid::regclass::text, pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 't', 'i') AND n.nspname IN ('public', 'pg_toast') "
            "AND pg_relation_filepath(c.oid) IS NOT NULL"
        ).fetchall()
        files = {}
        for relation, path in rows:
            row = conn.execute("SELECT pg_read_binary_file(%s::text)", [path]).fetchone()
            files[relation] = bytes(row[0]) if row else b""
        return files


@pytest.mark.django_db
def test_after_erasure_no_value_typed_about_the_person_is_anywhere_on_disk_or_in_the_logs(
    tmp_path: Path,
) -> None:
    env = _base_env(tmp_path)
    if connection.vendor == "postgresql":
        with _scratch_postgres_database() as (name, conninfo):
            env["DATABASE_URL"] = (
                f"postgres://{conninfo['user']}:{conninfo['password']}@{conninfo['host']}:"
                f"{conninfo['port']}/{name}"
            )
            reference, output = _run_scenario(env)
            database = _postgres_relation_files(name, conninfo)
    else:
        db_file = tmp_path / "scan.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{db_file}"
        reference, output = _run_scenario(env)
        database = {p.name: p.read_bytes() for p in tmp_path.glob("scan.sqlite3*")}

    folders = _files_under(tmp_path / "var")
    payout_files = [path for path in folders if path.startswith("payouts")]
    export_files = [path for path in folders if path.startswith("exports")]
    # The scan sees what is there: the person's reference, a bank file and the exports.
    assert any(reference.encode() in blob for blob in database.values())
    assert payout_files and len(export_files) >= 4, sorted(folders)
    assert b"personal_data.viewed" in b"".join(database.values())

    blobs = {f"database {k}": v for k, v in database.items()}
    blobs.update({f"file {k}": v for k, v in folders.items()})
    blobs["the scenario's logs"] = output
    hits = _found(blobs)
    assert not hits, "\n".join(hits)
