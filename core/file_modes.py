"""Key files, the SQLite database and the folders of payout files and exports are readable by
their owner only (files 0600, folders 0700).

SQLite creates its file with the process umask (usually 0644: readable by every local user),
and the embedded mode keeps keys, bank files and exports beside it. The database file is
tightened on every connection (its journals inherit its mode); the folders at start-up in
embedded mode. Production is checked, not changed: ``manage.py check_production`` refuses
such files (operations/production_checks.py).
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger("fundflow.security")

#: Files already reported as impossible to tighten (one warning per file and process).
_reported_untightened: set[Path] = set()

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700
#: Bits that let the group or others read, write or enter.
SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def owner_only_folder(path: Path) -> None:
    """Create ``path`` (and parents) 0700, or tighten it when it exists shared."""
    path.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
    if mode_of(path) & SHARED_BITS:
        path.chmod(OWNER_ONLY_FOLDER)


def sqlite_file(database: Mapping[str, Any]) -> Path | None:
    """The file a database's settings name, or None for a server or an in-memory database."""
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return None
    name = str(database.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return Path(name)


def restrict_sqlite_file(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: the SQLite file and its journals become 0600 at once."""
    path = sqlite_file(connection.settings_dict)
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = path.with_name(path.name + suffix)
        if part.exists() and mode_of(part) & SHARED_BITS:
            try:
                part.chmod(OWNER_ONLY_FILE)
            except OSError as error:
                # A read-only disk (remounted after I/O errors): the database may still be
                # read, so serve what can be served; check_production names the mode.
                if part not in _reported_untightened:
                    _reported_untightened.add(part)
                    logger.warning(
                        "the database file %s cannot be made owner-only (%s); it stays mode %04o",
                        part,
                        error.strerror or type(error).__name__,
                        mode_of(part),
                    )


def secure_embedded_folders() -> None:
    """The folders of keys, payout files (pain.001) and exports, 0700 (embedded mode)."""
    for folder in (
        Path(settings.FIELD_ENCRYPTION_KEY_FILE).parent,
        Path(settings.BLIND_INDEX_KEY_FILE).parent,
        Path(settings.AUDIT_SIGNING_KEY_FILE).parent,
        Path(settings.PAYOUT_FILES_DIR),
        Path(settings.EXPORT_FILES_DIR),
    ):
        owner_only_folder(folder)
