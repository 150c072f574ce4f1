"""Issue #18, "Backups and restores": ``manage.py backup`` and the ``restore_check`` drill.

A backup taken while the application writes restores and passes the drill, on SQLite (the
online backup API, never a file copy) and on PostgreSQL (pg_dump); the drill uses the key
file's keys, names the key that does not fit, notices an altered backup, and nothing it or
the backup prints holds a key or a personal value.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import threading
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from operations.backups import backup_sqlite
from tests.fixtures import World
from tests.operations.drill import (
    Drill,
    backup_files,
    copy_sqlite,
    environment,
    migrated_sqlite_file,
)
from tests.operations.writer import LOAD_NAME, PEOPLE
from tests.tasks.worker import wait_for

SEEDED_PEOPLE = 3


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Drill:
    """A SQLite file with the test world and three people paid (shared; tests copy it)."""
    folder = tmp_path_factory.mktemp("seeded")
    drill = Drill(folder / "db.sqlite3", folder / "var")
    migrated_sqlite_file(drill.database, drill.var_dir)
    process = drill.writer("seed", str(SEEDED_PEOPLE))
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    return drill


@pytest.fixture
def drill(seeded: Drill, tmp_path: Path) -> Drill:
    """The seeded database, a copy of its own for this test."""
    own = Drill(tmp_path / "db.sqlite3", tmp_path / "var")
    copy_sqlite(seeded.database, own.database)
    return own


@pytest.fixture(scope="module")
def sqlite_backup(seeded: Drill, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """One backup of the seeded database (read-only for the tests: they copy what they alter)."""
    folder = tmp_path_factory.mktemp("backup")
    result = seeded.manage("backup", "--to", str(folder / "backups"))
    assert result.returncode == 0, result.stderr
    database, manifest = backup_files(folder / "backups")
    (keys,) = (folder / "backups-keys").glob("fundflow-keys-*.json")
    return {"database": database, "manifest": manifest, "keys": keys, "output": result.stdout}


def _lines(output: str) -> dict[str, list[str]]:
    lines = [line for line in output.splitlines() if line.startswith(("ok", "FAIL"))]
    return {
        "ok": [line for line in lines if line.startswith("ok")],
        "FAIL": [line for line in lines if line.startswith("FAIL")],
    }


def _passes_every_check(output: str) -> None:
    found = _lines(output)
    assert found["FAIL"] == [], output
    checks = " ".join(found["ok"])
    for expected in (
        "backup file: its sha256 matches the manifest",
        "key file: its key fingerprints match the manifest",
        "restored into a scratch",
        "migrations: the database is at this code's migrations",
        "audit chain intact:",
        "trial balance 0 SEK in every fiscal year",
        "people decrypt:",
    ):
        assert expected in checks, output


def _wrong_key_file(keys: Path, folder: Path, **replaced: object) -> Path:
    values = {**json.loads(keys.read_text()), **replaced}
    path = folder / "wrong-keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return path


# --- SQLite ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sqlite_backup_taken_under_write_load_restores_and_passes_restore_check(
    drill: Drill, tmp_path: Path
) -> None:
    progress, stop = tmp_path / "progress", tmp_path / "stop"
    writer = drill.writer("load", str(progress), str(stop))
    try:
        wait_for(lambda: progress.exists() and int(progress.read_text()) >= 3, timeout=60)
        before = int(progress.read_text())
        result = drill.manage("backup", "--to", str(tmp_path / "backups"))
        after = int(progress.read_text())
        assert writer.poll() is None, "the writer stopped during the backup"
    finally:
        stop.touch()
        output, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0, output
    assert result.returncode == 0, result.stderr
    database, _ = backup_files(tmp_path / "backups")
    (keys,) = (tmp_path / "backups-keys").glob("*.json")
    # The backup is one moment of a database that went on changing around it.
    with sqlite3.connect(database) as copy:
        people_in_backup = copy.execute("SELECT count(*) FROM fund_beneficiary").fetchone()[0]
    assert SEEDED_PEOPLE + before <= people_in_backup <= SEEDED_PEOPLE + after + 1
    assert drill.count("fund_beneficiary") > people_in_backup

    check = drill.manage("restore_check", str(database), "--keys", str(keys))

    assert check.returncode == 0, check.stdout + check.stderr
    _passes_every_check(check.stdout)
    assert "database: SQLite integrity_check ok" in check.stdout


def test_sqlite_backup_waits_for_a_commit_in_progress_and_copies_only_committed_pages(
    seeded: Drill, tmp_path: Path
) -> None:
    """A file copy taken now would hold the half-written pages of an uncommitted change; the
    online backup API waits for the writer and copies one committed state."""
    database = tmp_path / "db.sqlite3"
    copy_sqlite(seeded.database, database)
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA cache_size=2")  # the change spills into the database file early
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE uncommitted_pad (blob BLOB)")
    for _ in range(200):
        writer.execute("INSERT INTO uncommitted_pad VALUES (randomblob(4000))")
    # The change is in the database file now (the writer holds the exclusive lock).
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite3.connect(database, timeout=0).execute("SELECT count(*) FROM sqlite_master")
    released = threading.Timer(1.0, lambda: writer.execute("ROLLBACK"))
    started = time.monotonic()
    released.start()
    try:
        backup_sqlite(database, tmp_path / "backup.sqlite3")
    finally:
        released.join()
        writer.close()
    assert time.monotonic() - started >= 0.9  # it waited for the writer
    with sqlite3.connect(tmp_path / "backup.sqlite3") as copy:
        # Django's SQLite connections provide REGEXP, which the CHECK constraints use.
        copy.create_function("REGEXP", 2, lambda p, v: v is not None and bool(re.search(p, v)))
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    assert "uncommitted_pad" not in tables
    assert "audit_auditevent" in tables


@pytest.fixture(scope="module")
def restore_runs(
    seeded: Drill, sqlite_backup: dict[str, Path | str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """restore_check on the shared backup, with its key file and with a wrong field key."""
    keys = Path(sqlite_backup["keys"])
    wrong = _wrong_key_file(
        keys,
        tmp_path_factory.mktemp("wrong"),
        field_encryption_keys=[Fernet.generate_key().decode()],
    )
    database = str(sqlite_backup["database"])
    return {
        "passed": seeded.manage("restore_check", database, "--keys", str(keys)),
        "wrong_keys": wrong,
        "refused": seeded.manage("restore_check", database, "--keys", str(wrong)),
    }


def test_restore_check_names_the_field_encryption_key_when_the_key_file_is_wrong(
    restore_runs: dict[str, Any],
) -> None:
    check, wrong = restore_runs["refused"], restore_runs["wrong_keys"]

    assert check.returncode != 0
    failed = _lines(check.stdout)["FAIL"]
    assert any(
        f"the field-encryption key in {wrong} is not the one this backup was taken with" in line
        for line in failed
    ), check.stdout
    assert any(
        f"the field-encryption key in {wrong} does not open the backup's data keys" in line
        for line in failed
    ), check.stdout


def test_restore_check_names_the_blind_index_key_when_it_does_not_recompute_the_indexes(
    seeded: Drill, sqlite_backup: dict[str, Path | str], tmp_path: Path
) -> None:
    keys = Path(sqlite_backup["keys"])
    wrong = _wrong_key_file(keys, tmp_path, blind_index_key="another-index-key-" + "x" * 32)

    check = seeded.manage("restore_check", str(sqlite_backup["database"]), "--keys", str(wrong))

    assert check.returncode != 0
    failed = " ".join(_lines(check.stdout)["FAIL"])
    assert f"the blind-index key in {wrong} does not recompute the stored personnummer" in failed
    assert "field-encryption" not in failed


def test_restore_check_fails_when_the_backup_file_was_altered(
    seeded: Drill, sqlite_backup: dict[str, Path | str], tmp_path: Path
) -> None:
    database, manifest = Path(sqlite_backup["database"]), Path(sqlite_backup["manifest"])
    altered = tmp_path / database.name
    altered.write_bytes(database.read_bytes())
    (tmp_path / manifest.name).write_bytes(manifest.read_bytes())
    with altered.open("r+b") as handle:  # one byte in the last page
        handle.seek(-100, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-100, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 0xFF]))

    check = seeded.manage("restore_check", str(altered), "--keys", str(sqlite_backup["keys"]))

    assert check.returncode != 0
    assert f"FAIL  backup file: its sha256 does not match the manifest: {altered}" in check.stdout


def test_every_backup_file_is_private_and_the_key_file_is_kept_apart_from_the_database(
    drill: Drill, tmp_path: Path
) -> None:
    target = tmp_path / "backups"
    # Even with a umask that would leave new files world-readable: created 0600.
    result = drill.manage("backup", "--to", str(target), umask=0)
    assert result.returncode == 0, result.stderr

    database, manifest = backup_files(target)
    (keys,) = (tmp_path / "backups-keys").glob("fundflow-keys-*.json")
    for path in (database, manifest, keys):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (target, keys.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert target not in keys.parents
    assert sorted(p.name for p in target.iterdir()) == sorted([database.name, manifest.name])
    assert json.loads(manifest.read_text())["key_file"] == keys.name
    assert f"Key file:        {keys}" in result.stdout
    assert "keys apart from data" in result.stdout


def test_a_key_folder_inside_the_backup_folder_is_refused(drill: Drill, tmp_path: Path) -> None:
    target = tmp_path / "backups"

    result = drill.manage("backup", "--to", str(target), "--keys-to", str(target / "keys"))

    assert result.returncode != 0
    assert "must be apart" in result.stderr
    assert not target.exists()  # refused before anything was written


def test_no_key_value_and_no_personal_value_appears_in_the_commands_output(
    sqlite_backup: dict[str, Path | str], restore_runs: dict[str, Any]
) -> None:
    passed, refused = restore_runs["passed"], restore_runs["refused"]
    outputs = "\n".join(
        [str(sqlite_backup["output"]), passed.stdout, passed.stderr, refused.stdout, refused.stderr]
    )
    assert passed.returncode == 0, outputs
    assert "people decrypt: 3 of 3 people and 3 of 3 person payees" in passed.stdout

    keys = json.loads(Path(sqlite_backup["keys"]).read_text())
    secrets = [*keys["field_encryption_keys"], keys["blind_index_key"]]
    secrets += json.loads(Path(restore_runs["wrong_keys"]).read_text())["field_encryption_keys"]
    for pem in (keys["audit_signing_key_pem"], keys["audit_public_key_pem"]):
        secrets += [line for line in pem.splitlines() if line and not line.startswith("-----")]
    personal = [value for person in PEOPLE for value in person] + [LOAD_NAME]
    personal += [number.replace("-", "") for _, number in PEOPLE]
    for value in secrets + personal:
        assert value not in outputs


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def committed_world(world: World) -> World:
    """Two cases paid, committed where pg_dump (another session) sees them."""
    world.to_paid(world.new_application("1200", name="Postgres Personsson"))
    world.to_paid(world.new_application("800", name="Postgres Personsson"))
    return world


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_backup_taken_under_write_load_restores_and_passes_restore_check(
    committed_world: World, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.celery_worker import _database_url

    progress, stop = tmp_path / "progress", tmp_path / "stop"
    env = environment(_database_url(connection.settings_dict), tmp_path / "var")
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.operations.writer", "load", str(progress), str(stop)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: progress.exists() and int(progress.read_text()) >= 3, timeout=60)
        call_command("backup", to=tmp_path / "backups", stdout=StringIO())
        assert writer.poll() is None, "the writer stopped during the backup"
    finally:
        stop.touch()
        output, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0, output
    database, manifest = backup_files(tmp_path / "backups")
    (keys,) = (tmp_path / "backups-keys").glob("*.json")
    assert database.suffix == ".dump"
    assert json.loads(manifest.read_text())["vendor"] == "postgresql"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600

    out = StringIO()
    call_command("restore_check", str(database), keys=keys, stdout=out)

    _passes_every_check(out.getvalue())
    assert "restored into a scratch database" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", ["%restore_check%"])
        assert cursor.fetchall() == []  # the scratch database was dropped


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_restore_check_names_the_field_encryption_key_when_the_key_file_is_wrong(
    committed_world: World, tmp_path: Path
) -> None:
    call_command("backup", to=tmp_path / "backups", stdout=StringIO())
    database, _ = backup_files(tmp_path / "backups")
    (keys,) = (tmp_path / "backups-keys").glob("*.json")
    wrong = _wrong_key_file(keys, tmp_path, field_encryption_keys=[Fernet.generate_key().decode()])
    out = StringIO()

    with pytest.raises(CommandError, match="Restore check FAILED"):
        call_command("restore_check", str(database), keys=wrong, stdout=out)

    assert f"the field-encryption key in {wrong} does not open the backup's data keys" in (
        out.getvalue()
    )
