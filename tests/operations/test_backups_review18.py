"""Review of issue #18's backups and restore drill (review18 findings, fixed)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.operations.drill import Drill
from tests.operations.test_backups import (  # noqa: F401 - the fixtures, shared
    seeded,
    sqlite_backup,
)


def test_restore_check_restores_nothing_from_a_backup_that_does_not_match_its_manifest(
    seeded: Drill,  # noqa: F811
    sqlite_backup: dict[str, Path | str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """'restore_check restores a backup … and proves it': an altered file is not the backup.

    The checksum line fails, and the drill goes on to restore the altered file anyway: for
    PostgreSQL that is pg_restore running whatever SQL the altered archive holds, with the
    DATABASE_URL role (which needs CREATEDB, usually the owner), on the live server
    (DROP DATABASE of the live database included). Stop at the checksum, before restoring.
    """
    database, manifest = Path(sqlite_backup["database"]), Path(sqlite_backup["manifest"])
    altered = tmp_path / database.name
    altered.write_bytes(database.read_bytes())
    (tmp_path / manifest.name).write_bytes(manifest.read_bytes())
    with altered.open("r+b") as handle:
        handle.seek(-100, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-100, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 0xFF]))

    check = seeded.manage("restore_check", str(altered), "--keys", str(sqlite_backup["keys"]))

    assert "FAIL  backup file: its sha256 does not match the manifest" in check.stdout
    assert "restored into" not in check.stdout, check.stdout
