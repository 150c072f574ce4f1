"""Encryption of personal values at rest.

Personal values never sit in plain columns: they are one Fernet token per person. Keys come
from settings (newest first, so keys can be rotated with MultiFernet); in embedded mode a key
is generated once into a file outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionFailed(Exception):
    """The stored token cannot be read with any configured key."""


def _key_from_file(path: Path) -> bytes:
    if not path.exists():
        if not settings.GENERATE_MISSING_KEYS:
            raise ImproperlyConfigured(f"No field-encryption key at {path}.")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return path.read_bytes().strip()


@lru_cache(maxsize=1)
def _cipher() -> MultiFernet:
    keys = [key.encode() for key in settings.FIELD_ENCRYPTION_KEYS]
    if not keys:
        keys = [_key_from_file(Path(settings.FIELD_ENCRYPTION_KEY_FILE))]
    return MultiFernet([Fernet(key) for key in keys])


def reset_key_cache() -> None:
    """Forget loaded keys (after rotation, or when tests change settings)."""
    _cipher.cache_clear()


def encrypt_json(data: dict[str, Any]) -> str:
    plain = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return _cipher().encrypt(plain).decode("ascii")


def decrypt_json(token: str) -> dict[str, Any]:
    try:
        plain = _cipher().decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise DecryptionFailed(
            "personal data cannot be decrypted with the configured keys"
        ) from exc
    result: dict[str, Any] = json.loads(plain)
    return result


def blind_index(value: str) -> str:
    """A keyed hash to find duplicates without storing the value itself."""
    key = settings.BLIND_INDEX_KEY or settings.SECRET_KEY
    normalised = "".join(value.split()).replace("-", "").replace("+", "")
    return hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()
