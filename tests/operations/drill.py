"""A file database of its own for backup drills, and the commands run on it as subprocesses.

The embedded mode as an operator runs it: SQLite file, key files (the test session's),
``manage.py backup`` and ``restore_check`` started as their own processes while another
process writes (tests/operations/writer.py).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

#: Environment variables the drill processes must not inherit (they choose their own).
INHERITED_NOT = {"DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "AUDIT_SIGNER"}


def key_file_environment() -> dict[str, str]:
    """The test session's key files, as an embedded installation names them."""
    return {
        "FIELD_ENCRYPTION_KEY_FILE": str(settings.FIELD_ENCRYPTION_KEY_FILE),
        "BLIND_INDEX_KEY_FILE": str(settings.BLIND_INDEX_KEY_FILE),
        "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
        "AUDIT_PUBLIC_KEY_FILE": str(settings.AUDIT_PUBLIC_KEY_FILE),
    }


def environment(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_NOT}
    env.update(key_file_environment())
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "1",
            "GENERATE_MISSING_KEYS": "0",
            "FUNDFLOW_VAR_DIR": str(var_dir),
            "CELERY_BROKER_URL": "",
        }
    )
    return env


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (the online backup API), for giving each test its own database."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@dataclass
class Drill:
    """One SQLite file database and the environment of every process working on it."""

    database: Path
    var_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return environment(f"sqlite:///{self.database}", self.var_dir)

    def manage(self, *args: str, umask: int = -1) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            umask=umask,
        )

    def writer(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.operations.writer", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def count(self, table: str) -> int:
        with sqlite3.connect(self.database) as db:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def migrated_sqlite_file(target: Path, var_dir: Path) -> None:
    """A new SQLite file migrated to this code (``manage.py migrate``, as `make run` does)."""
    result = Drill(target, var_dir).manage("migrate", "--noinput", "-v", "0")
    assert result.returncode == 0, result.stderr


def backup_files(folder: Path) -> tuple[Path, Path]:
    """(the database backup, the manifest) a backup wrote into ``folder``."""
    (manifest,) = folder.glob("fundflow-*.manifest.json")
    (database,) = (p for p in folder.glob("fundflow-*") if p != manifest)
    return database, manifest
