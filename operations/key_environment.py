"""The embedded mode's key files as an environment file, for production.

Production reads the field-encryption and blind-index keys from the environment
(FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY). Both must be the keys the data was made with: a
new field key leaves every person unreadable, a new index key silently stops duplicate
detection and the yearly limit per person. The file is created 0600 and never shown; the
audit signing key stays a file (it is PEM, and may move to a signer process).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from django.views.decorators.debug import sensitive_variables

from core.file_modes import OWNER_ONLY_FILE
from operations.configured_keys import ConfiguredKeys, blind_index_key, field_encryption_keys

#: What an unquoted value in a systemd EnvironmentFile or a docker --env-file may hold.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_=+/.,:-]+")


class KeysNotWritten(Exception):
    """The keys could not be carried over; nothing was written."""


@dataclass(frozen=True)
class WrittenKeys:
    path: Path
    field_keys: int
    field_source: str
    index_source: str


def _values(keys: ConfiguredKeys) -> tuple[list[str], str]:
    """(the values, where they come from); a missing file is an error, never a new key."""
    if keys.missing:
        raise KeysNotWritten(
            f"No key file at {keys.path} ({keys.file_setting}): restore it from your key backup "
            "first. A new key would not open the data made with the lost one."
        )
    return list(keys.values), keys.setting if keys.from_environment else str(keys.path)


@sensitive_variables()
def _keys_in_use() -> tuple[list[str], str, str, str]:
    """(field keys newest first, index key, where each came from): what the app uses now."""
    field_keys, field_source = _values(field_encryption_keys())
    index_keys, index_source = _values(blind_index_key())
    index_key = index_keys[0]
    for key in field_keys:
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise KeysNotWritten(
                f"The field-encryption key from {field_source} is not a Fernet key."
            ) from exc
    if not index_key or not _PLAIN_VALUE.fullmatch(index_key):
        raise KeysNotWritten(
            f"The blind-index key from {index_source} is empty or holds characters an "
            "environment file cannot carry unquoted."
        )
    return field_keys, index_key, field_source, index_source


@sensitive_variables()
def write_environment_file(path: Path) -> WrittenKeys:
    """Write FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY to a new file, created 0600."""
    field_keys, index_key, field_source, index_source = _keys_in_use()
    text = (
        "# Fundflow's keys, carried over from the embedded mode (manage.py keys_to_environment).\n"
        "# Keep this file apart from the database and its backups, readable by the service's\n"
        "# user only; without these keys nobody's data can be read nor duplicates found.\n"
        f"FIELD_ENCRYPTION_KEYS={','.join(field_keys)}\n"
        f"BLIND_INDEX_KEY={index_key}\n"
    )
    try:
        # O_EXCL: never overwrite (another key file, perhaps the only copy); 0600 from the
        # start, so the keys are never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
    except FileExistsError as exc:
        raise KeysNotWritten(f"{path} exists already: choose a new file name.") from exc
    except OSError as exc:
        raise KeysNotWritten(f"{path} cannot be created: {exc.strerror}.") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), OWNER_ONLY_FILE)  # whatever the umask
        handle.write(text)
    return WrittenKeys(path, len(field_keys), field_source, index_source)
