"""``restore_check``: restore a backup into a scratch place and prove it, one line per check.

The backup is checked against its manifest (checksum, key fingerprints), restored into a
temporary copy (SQLite) or a scratch database created for the drill and dropped after it
(PostgreSQL, via pg_restore), and then a separate process, started on the scratch copy with
the keys from the key file in its environment, runs :mod:`operations.restore_checks`. The
live database and the live key folder are never touched: a drill proves the backup and the
key backup, not the running installation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # nosec B404
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.views.decorators.debug import sensitive_variables

from operations.backups import (
    BackupFailed,
    create_private_file,
    key_fingerprints,
    libpq_environment,
    manifest_path_for,
    postgres_tool,
    read_key_file,
    sha256_of_file,
    write_private_file,
)
from operations.restore_checks import KEY_FILE_VARIABLE, SCRATCH_MARKER, CheckLine

#: The longest a drill's checks may run (a large audit chain takes minutes to verify).
CHECKS_TIMEOUT_SECONDS = 3600

KEY_NAMES = {
    "field_encryption_keys": "field-encryption key",
    "blind_index_key": "blind-index key",
    "audit_signing_key": "audit signing key",
    "audit_public_key": "audit public key",
}


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None


def manifest_lines(
    backup: Path, keys: Mapping[str, Any], key_file: Path, manifest: Mapping[str, Any]
) -> list[CheckLine]:
    """The backup file's checksum and the key file's fingerprints against the manifest."""
    lines = []
    if sha256_of_file(backup) == manifest.get("database_sha256"):
        lines.append(CheckLine(True, "backup file: its sha256 matches the manifest"))
    else:
        lines.append(
            CheckLine(
                False,
                f"backup file: its sha256 does not match the manifest: {backup} was altered or "
                "damaged since it was written (or the manifest belongs to another backup)",
            )
        )
    expected = manifest.get("key_fingerprints") or {}
    found = key_fingerprints(keys)
    wrong = [
        name
        for name in KEY_NAMES
        if expected.get(name) is not None and found.get(name) != expected.get(name)
    ]
    if wrong:
        what = " and the ".join(KEY_NAMES[name] for name in wrong)
        lines.append(
            CheckLine(
                False,
                f"key file: the {what} in {key_file} {'is' if len(wrong) == 1 else 'are'} not "
                f"the one{'' if len(wrong) == 1 else 's'} this backup was taken with (the "
                f"manifest names the key file {manifest.get('key_file', '?')})",
            )
        )
    else:
        lines.append(CheckLine(True, "key file: its key fingerprints match the manifest"))
    return lines


@sensitive_variables()
def _write_key_files(keys: Mapping[str, Any], folder: Path) -> dict[str, str]:
    """The audit keys as files in the scratch folder, and the environment naming them."""
    folder.mkdir(mode=0o700)
    private, public = folder / "audit-signing.pem", folder / "audit-signing.pub.pem"
    if keys.get("audit_signing_key_pem"):
        write_private_file(private, str(keys["audit_signing_key_pem"]).encode())
    if keys.get("audit_public_key_pem"):
        write_private_file(public, str(keys["audit_public_key_pem"]).encode())
    return {
        "AUDIT_SIGNER": "file",
        "AUDIT_SIGNING_KEY_FILE": str(private),
        "AUDIT_PUBLIC_KEY_FILE": str(public),
        # Nowhere: the keys come from the environment, never from a key folder.
        "FIELD_ENCRYPTION_KEY_FILE": str(folder / "absent-field-encryption.key"),
        "BLIND_INDEX_KEY_FILE": str(folder / "absent-blind-index.key"),
    }


@sensitive_variables()
def checks_environment(
    database_url: str, keys: Mapping[str, Any], key_file: Path, scratch: Path
) -> dict[str, str]:
    """The scratch process's environment: the scratch database and the key file's keys."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name
        not in {"CELERY_RESULT_BACKEND", "PAYOUT_FILES_DIR", "EXPORT_FILES_DIR", "EMAIL_FILE_PATH"}
    }
    env.update(_write_key_files(keys, scratch / "keys"))
    env.update(
        {
            "DATABASE_URL": database_url,
            "FIELD_ENCRYPTION_KEYS": ",".join(keys["field_encryption_keys"]),
            "BLIND_INDEX_KEY": str(keys["blind_index_key"]),
            "GENERATE_MISSING_KEYS": "0",
            "FUNDFLOW_VAR_DIR": str(scratch / "var"),
            "AUDIT_AUTO_CHECKPOINT": "0",
            "CELERY_BROKER_URL": "",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            SCRATCH_MARKER: "1",
            KEY_FILE_VARIABLE: str(key_file),
        }
    )
    return env


def run_checks_process(env: Mapping[str, str]) -> list[CheckLine | str]:
    """Start ``manage.py restore_check_run`` on the scratch copy; its lines."""
    result = subprocess.run(  # noqa: S603 - this interpreter, our manage.py # nosec B603
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "restore_check_run"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=CHECKS_TIMEOUT_SECONDS,
        cwd=settings.BASE_DIR,
    )
    lines: list[CheckLine | str] = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode not in (0, 1) or not lines:
        last = [line for line in result.stderr.splitlines() if line.strip()][-1:] or ["no output"]
        lines.append(
            CheckLine(
                False,
                f"the application did not start on the restored backup (exit "
                f"{result.returncode}): {last[0]}",
            )
        )
    return lines


@contextmanager
def scratch_sqlite(backup: Path, scratch: Path) -> Iterator[str]:
    """A private copy of the backup file (the backup itself is never opened for writing)."""
    restored = scratch / "restored.sqlite3"
    with backup.open("rb") as source, os.fdopen(create_private_file(restored), "wb") as target:
        shutil.copyfileobj(source, target)
    yield f"sqlite:///{restored}"


def _postgres_url(database: Mapping[str, Any], name: str) -> str:
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"


def scratch_database_name(live_name: str) -> str:
    return f"{live_name}_restore_check_{os.getpid()}"[-63:]


def _maintenance(database: Mapping[str, Any], statement: Any) -> None:
    """Create or drop the scratch database (from the server's maintenance database)."""
    import psycopg

    try:
        with psycopg.connect(
            host=database.get("HOST") or None,
            port=database.get("PORT") or None,
            user=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(statement)
    except psycopg.Error as exc:
        raise BackupFailed(
            f"the scratch database could not be created or dropped ({exc}); the role needs "
            "CREATEDB (README, Backups and restores)"
        ) from exc


@contextmanager
def scratch_postgres(backup: Path) -> Iterator[str]:
    """A scratch database restored with pg_restore, dropped afterwards whatever happens."""
    from psycopg import sql

    database = connection.settings_dict
    name = scratch_database_name(str(database["NAME"]))
    identifier = sql.Identifier(name)
    _maintenance(database, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
    _maintenance(database, sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        command = [
            postgres_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--no-password",
            "--dbname",
            name,
            str(backup),
        ]
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell # nosec B603
            command,
            env=libpq_environment({**database, "NAME": name}),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupFailed(f"pg_restore failed (exit {result.returncode}): {result.stderr}")
        yield _postgres_url(database, name)
    finally:
        _maintenance(
            database, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier)
        )


def restore_check(
    backup: Path,
    *,
    keys: Path,
    manifest: Path | None = None,
    report: Callable[[str], None],
) -> bool:
    """Restore ``backup`` into scratch and prove it with the keys in ``keys``; True if all pass.

    Each check is reported as one line (``ok`` / ``FAIL``).
    """
    failed = False

    def say(line: CheckLine | str) -> None:
        nonlocal failed
        if isinstance(line, CheckLine):
            failed = failed or not line.ok
            line = line.render()
        elif line.startswith("FAIL"):
            failed = True
        report(line)

    manifest_path = manifest or manifest_path_for(backup)
    described = _manifest(manifest_path)
    if not backup.is_file():
        say(CheckLine(False, f"backup file: {backup} does not exist"))
        return False
    try:
        key_values = read_key_file(keys)
    except ValueError as exc:
        say(CheckLine(False, f"key file: {exc}"))
        return False
    proven = described is not None
    if described is None:
        say(CheckLine(False, f"manifest: none readable at {manifest_path}"))
    else:
        for line in manifest_lines(backup, key_values, keys, described):
            proven = proven and (line.ok or not line.text.startswith("backup file:"))
            say(line)
    if not proven:
        # An altered or unknown file is not the backup: restoring it would run whatever an
        # altered archive holds (pg_restore, as a role that may create databases).
        say(
            CheckLine(
                False,
                "restore: not attempted — the file is not proven to be the backup its manifest "
                "describes",
            )
        )
        return False
    vendor = (described or {}).get("vendor") or (
        "sqlite" if backup.suffix == ".sqlite3" else "postgresql"
    )
    if vendor == "postgresql" and connection.vendor != "postgresql":
        say(
            CheckLine(
                False,
                "restore: a PostgreSQL dump is restored into a scratch database on the server "
                "DATABASE_URL names, which here is not PostgreSQL",
            )
        )
        return False
    with tempfile.TemporaryDirectory(prefix="fundflow-restore-check-") as folder:
        scratch = Path(folder)
        place = scratch_sqlite(backup, scratch) if vendor == "sqlite" else scratch_postgres(backup)
        try:
            with place as database_url:
                where = "a scratch copy" if vendor == "sqlite" else "a scratch database"
                say(CheckLine(True, f"restore: {backup.name} restored into {where}"))
                env = checks_environment(database_url, key_values, keys, scratch)
                for reported in run_checks_process(env):
                    say(reported)
        except (BackupFailed, OSError, subprocess.TimeoutExpired) as exc:
            say(CheckLine(False, f"restore: {exc}"))
    return not failed
