"""Backups that restore: the database and the keys it needs, written apart (issue #18).

The embedded SQLite file runs in rollback-journal mode: a file copy taken while a commit
writes pages is a torn database. SQLite's online backup API copies it under a read lock, so
the copy is one committed state. PostgreSQL is dumped with ``pg_dump -Fc`` (one snapshot).
The keys go into a separate file in a separate folder: a database backup alone cannot be
read, and keys kept beside the data would protect nothing. A manifest beside the database
backup names its checksum and the fingerprints of its keys, so a restore can tell which key
file belongs to it; it holds neither keys nor personal values.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.views.decorators.debug import sensitive_variables

from core.file_modes import OWNER_ONLY_FILE, owner_only_folder, sqlite_file
from operations.configured_keys import ConfiguredKeys, blind_index_key, field_encryption_keys

#: How long the backup waits for a writer's commit to finish before SQLite reports busy.
SQLITE_BUSY_SECONDS = 30
MANIFEST_FORMAT = 1
KEY_FILE_FORMAT = 1


class BackupFailed(Exception):
    """The backup could not be taken; the message says why and what to do."""


@dataclass(frozen=True)
class BackupFiles:
    database: Path
    manifest: Path
    keys: Path
    signing_key_included: bool


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def manifest_path_for(backup: Path) -> Path:
    """``fundflow-<stamp>.sqlite3`` / ``.dump`` → ``fundflow-<stamp>.manifest.json``."""
    return backup.with_name(backup.name.rsplit(".", 1)[0] + ".manifest.json")


def create_private_file(path: Path) -> int:
    """A new file, 0600 from its first byte (never widened, never chmod'ed afterwards)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)


def write_private_file(path: Path, data: bytes) -> None:
    with os.fdopen(create_private_file(path), "wb") as handle:
        handle.write(data)


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(value: str) -> str:
    """The key's SHA-256: tells key files apart without showing a key."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _is_inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def default_key_folder(database_folder: Path) -> Path:
    """A sibling of the database folder (``backups`` → ``backups-keys``), never inside it."""
    resolved = database_folder.resolve()
    return resolved.with_name(resolved.name + "-keys")


# --- the keys -------------------------------------------------------------------------------


def _key_values(keys: ConfiguredKeys, kind: str) -> list[str]:
    if keys.missing:
        raise BackupFailed(
            f"No {kind} to back up: {keys.setting} is not set and there is no key file at "
            f"{keys.path}."
        )
    return list(keys.values)


@sensitive_variables()
def configured_keys() -> dict[str, Any]:
    """Every key the data needs, as configured now (environment first, else the key files)."""
    field_keys = _key_values(field_encryption_keys(), "field-encryption key")
    index_key = _key_values(blind_index_key(), "blind-index key")[0]
    signing_pem = public_pem = None
    private_path = Path(settings.AUDIT_SIGNING_KEY_FILE)
    if str(getattr(settings, "AUDIT_SIGNER", "file") or "file") == "file" and private_path.exists():
        signing_pem = private_path.read_text()
    public_path = Path(settings.AUDIT_PUBLIC_KEY_FILE)
    if public_path.exists():
        public_pem = public_path.read_text()
    return {
        "fundflow_keys": KEY_FILE_FORMAT,
        "field_encryption_keys": field_keys,
        "blind_index_key": index_key,
        "audit_signing_key_pem": signing_pem,
        "audit_public_key_pem": public_pem,
    }


@sensitive_variables()
def key_fingerprints(keys: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's record of a key file: a SHA-256 per key, no key itself."""
    return {
        "field_encryption_keys": [fingerprint(k) for k in keys.get("field_encryption_keys", [])],
        "blind_index_key": fingerprint(keys["blind_index_key"])
        if keys.get("blind_index_key")
        else None,
        "audit_signing_key": fingerprint(keys["audit_signing_key_pem"])
        if keys.get("audit_signing_key_pem")
        else None,
        "audit_public_key": fingerprint(keys["audit_public_key_pem"])
        if keys.get("audit_public_key_pem")
        else None,
    }


def read_key_file(path: Path) -> dict[str, Any]:
    """A key file written by :func:`take_backup`; ``ValueError`` when it is not one."""
    try:
        keys = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a Fundflow key file ({exc.__class__.__name__})") from None
    if not isinstance(keys, dict) or keys.get("fundflow_keys") != KEY_FILE_FORMAT:
        raise ValueError(f"{path} is not a Fundflow key file (format {KEY_FILE_FORMAT})")
    if not keys.get("field_encryption_keys") or not keys.get("blind_index_key"):
        raise ValueError(f"{path} lacks the field-encryption or the blind-index key")
    return keys


# --- the database ---------------------------------------------------------------------------


def _latest_migrations(rows: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The last migration applied per app (rows in the order they were applied)."""
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = name
    return dict(sorted(latest.items()))


def backup_sqlite(source: Path, target: Path) -> dict[str, str]:
    """Copy ``source`` with the online backup API; the latest migrations in the copy.

    One step (``pages=-1``) under one read lock: writers wait for the copy (about a second
    per hundred MB) instead of restarting it, and the copy is exactly one committed state.
    """
    if not source.exists():
        raise BackupFailed(f"The SQLite database {source} does not exist.")
    os.close(create_private_file(target))
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_SECONDS)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            rows = dst.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
        finally:
            dst.close()
    finally:
        src.close()
    return _latest_migrations(rows)


def libpq_environment(database: Mapping[str, Any]) -> dict[str, str]:
    """The environment pg_dump/pg_restore/psql need: the password never on a command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if database.get(key):
            env[variable] = str(database[key])
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def postgres_tool(name: str) -> str:
    """The path of pg_dump/pg_restore (``PG_BINDIR`` first, else the PATH)."""
    bindir = os.environ.get("PG_BINDIR", "")
    found = shutil.which(name, path=bindir or None)
    if not found:
        raise BackupFailed(
            f"{name} was not found (install postgresql-client of the server's major version, "
            "or set PG_BINDIR)."
        )
    return found


def backup_postgres(database: Mapping[str, Any], target: Path) -> dict[str, str]:
    """``pg_dump -Fc`` into ``target`` (0600); the latest migrations just before the dump."""
    from django.db.migrations.recorder import MigrationRecorder

    migrations = _latest_migrations(
        MigrationRecorder(connection).migration_qs.order_by("id").values_list("app", "name")
    )
    command = [postgres_tool("pg_dump"), "--format=custom", "--no-password"]
    with os.fdopen(create_private_file(target), "wb") as out:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell # nosec B603
            command, env=libpq_environment(database), stdout=out, stderr=subprocess.PIPE
        )
    if result.returncode != 0:
        target.unlink()
        detail = result.stderr.decode(errors="replace").strip()
        raise BackupFailed(f"pg_dump failed (exit {result.returncode}): {detail}")
    return migrations


# --- the whole backup -----------------------------------------------------------------------


def take_backup(
    *, to: Path, keys_to: Path | None = None, now: datetime | None = None
) -> BackupFiles:
    """Back up the configured database into ``to`` and its keys into ``keys_to``.

    Every file is created 0600, the folders 0700. ``keys_to`` defaults to a sibling of
    ``to`` and may never be inside it (nor ``to`` inside it): keys apart from data.
    """
    key_folder = keys_to if keys_to is not None else default_key_folder(to)
    if _is_inside(key_folder, to) or _is_inside(to, key_folder):
        raise BackupFailed(
            f"The key folder {key_folder} and the database folder {to} must be apart (neither "
            "inside the other): keys kept with the data would protect nothing."
        )
    keys = configured_keys()
    database = connection.settings_dict
    stamp = utc_stamp(now)
    owner_only_folder(to)
    owner_only_folder(key_folder)
    path = sqlite_file(database)
    if path is None and connection.vendor != "postgresql":
        raise BackupFailed(f"No backup for a {connection.vendor} database (file or server).")
    target = to / (f"fundflow-{stamp}.sqlite3" if path else f"fundflow-{stamp}.dump")
    key_path = key_folder / f"fundflow-keys-{stamp}.json"
    manifest_path = manifest_path_for(target)
    written = [target, key_path, manifest_path]
    if any(p.exists() for p in written):
        raise BackupFailed(f"A backup stamped {stamp} exists already in {to}: try again.")
    try:
        if path is not None:
            migrations = backup_sqlite(path, target)
        else:
            migrations = backup_postgres(database, target)
        write_private_file(key_path, json.dumps(keys, indent=2).encode("utf-8"))
        manifest = {
            "fundflow_backup": MANIFEST_FORMAT,
            "stamp": stamp,
            "vendor": connection.vendor,
            "database_file": target.name,
            "database_sha256": sha256_of_file(target),
            "migrations": migrations,
            "key_file": key_path.name,
            "key_fingerprints": key_fingerprints(keys),
        }
        write_private_file(manifest_path, json.dumps(manifest, indent=2).encode("utf-8"))
    except BaseException:
        # Half a backup is worse than none: it would pass for one in the rotation.
        for part in written:
            part.unlink(missing_ok=True)
        raise
    return BackupFiles(
        database=target,
        manifest=manifest_path,
        keys=key_path,
        signing_key_included=bool(keys["audit_signing_key_pem"]),
    )
