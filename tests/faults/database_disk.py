"""The test database on a small file system that a test can fill or make read-only.

SQLite: the test's (in-memory) database is copied with SQLite's backup API into a file on a
4 MiB tmpfs, and the default connection is pointed at that file until the test ends; the
in-memory database's connection is set aside, not closed, and put back afterwards.
``fill()`` fills the tmpfs to the last byte, ``make_read_only()`` remounts it read-only
(``mount -o remount,ro``), ``repair()`` frees the space and remounts it read-write.

PostgreSQL: the server's disk is not ours to fill. The nearest fault a test can make is a
database that refuses every write — as a hot standby or a server protecting a full disk
does — with ``default_transaction_read_only``; ``fill()`` and ``make_read_only()`` both
turn it on. ``fault`` says which one ran, for the evidence report.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

SIZE = 4 * 1024 * 1024
FILLER = "filler.bin"


class DatabaseDisk:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fault = ""
        self._mounted = False
        self._memory: Any = None
        self._memory_name: Any = None

    # SQLite -----------------------------------------------------------------------------
    def move_database(self) -> None:
        """Put the (committed) test data into a file on the small disk and use that file."""
        if connection.vendor != "sqlite":
            return
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(self.path)],
            capture_output=True,
            timeout=30,
        )
        if result.returncode != 0:
            pytest.skip(f"needs a tmpfs (mount as root): {result.stderr.decode().strip()}")
        self._mounted = True
        connection.ensure_connection()
        target = sqlite3.connect(self.path / "db.sqlite3")
        connection.connection.backup(target)
        target.close()
        (self.path / "db.sqlite3").chmod(0o600)  # as the embedded mode keeps it
        self._memory, self._memory_name = connection.connection, connection.settings_dict["NAME"]
        connection.connection = None
        connection.settings_dict["NAME"] = str(self.path / "db.sqlite3")

    def fill(self) -> None:
        if connection.vendor != "sqlite":
            self._read_only_database("on")
            return
        with open(self.path / FILLER, "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass  # ENOSPC: the disk is full
        self.fault = f"the database file on a {SIZE // 1024} KiB tmpfs filled to the last byte"

    def make_read_only(self) -> None:
        if connection.vendor != "sqlite":
            self._read_only_database("on")
            return
        connection.close()  # an open file keeps a remount read-only from happening
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True, timeout=30)
        self.fault = f"the database file on a {SIZE // 1024} KiB tmpfs remounted read-only"

    def repair(self) -> None:
        """Free the space and make the disk writable again; nothing else is touched."""
        if connection.vendor != "sqlite":
            self._read_only_database("off")
            return
        subprocess.run(["mount", "-o", "remount,rw", str(self.path)], check=True, timeout=30)
        (self.path / FILLER).unlink(missing_ok=True)

    def restore(self) -> None:
        if connection.vendor != "sqlite":
            self._read_only_database("off")
            return
        if self._memory is not None:
            connection.close()
            connection.settings_dict["NAME"] = self._memory_name
            connection.connection = self._memory
        if self._mounted:
            subprocess.run(["umount", "--lazy", str(self.path)], check=False, timeout=30)

    # PostgreSQL -------------------------------------------------------------------------
    def _read_only_database(self, state: str) -> None:
        name = connection.settings_dict["NAME"]
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
            cursor.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {state}')
            cursor.execute(f"SET default_transaction_read_only = {state}")
        self.fault = (
            "a PostgreSQL database refusing every write (default_transaction_read_only = on)"
        )


@pytest.fixture
def database_disk(world: Any, tmp_path: Path) -> Iterator[DatabaseDisk]:
    """The database on a disk the test breaks; requested after the test's data is in place."""
    path = tmp_path / "disk"
    path.mkdir()
    disk = DatabaseDisk(path)
    try:
        yield disk
    finally:
        disk.restore()
