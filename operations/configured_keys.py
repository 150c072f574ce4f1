"""The field-encryption and blind-index keys as configured right now: the environment first,
else the embedded mode's key file.

Never the process's cached keys (``core.crypto``), and never a generated one: the production
checks, the start-up key canary, backups and ``keys_to_environment`` must all see what a
restart would load, and say where it comes from. Each caller words its own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.views.decorators.debug import sensitive_variables


@dataclass(frozen=True)
class ConfiguredKeys:
    """One key setting's values (newest first) and where they come from."""

    setting: str  # FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY
    file_setting: str  # the setting naming the embedded mode's key file
    path: Path  # that key file
    from_environment: bool
    values: tuple[str, ...]  # empty: neither set nor a file there

    @property
    def missing(self) -> bool:
        return not self.values


@sensitive_variables()
def _configured(setting: str, file_setting: str, values: list[str]) -> ConfiguredKeys:
    path = Path(getattr(settings, file_setting))
    if values:
        return ConfiguredKeys(setting, file_setting, path, True, tuple(values))
    stored = path.read_bytes().strip().decode("ascii", "replace") if path.exists() else ""
    return ConfiguredKeys(setting, file_setting, path, False, (stored,) if stored else ())


@sensitive_variables()
def field_encryption_keys() -> ConfiguredKeys:
    return _configured(
        "FIELD_ENCRYPTION_KEYS",
        "FIELD_ENCRYPTION_KEY_FILE",
        [str(key) for key in settings.FIELD_ENCRYPTION_KEYS if str(key)],
    )


@sensitive_variables()
def blind_index_key() -> ConfiguredKeys:
    index_key = str(settings.BLIND_INDEX_KEY or "")
    return _configured("BLIND_INDEX_KEY", "BLIND_INDEX_KEY_FILE", [index_key] if index_key else [])
