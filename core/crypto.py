"""Encryption of personal values at rest, with one data key per person.

Each person's values are one Fernet token under that person's own data key; the data key is
stored only wrapped (encrypted) by the master keys from settings. Erasing a person is
destroying their wrapped key (crypto-shredding); rotating master keys re-wraps the small data
keys and never touches the personal values. Master keys come newest first, so a new key can
be deployed before the old one is retired (MultiFernet). In embedded mode a master key is
generated once into a file outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

from core.file_modes import owner_only_folder


class DecryptionFailed(Exception):
    """The stored token cannot be read with any configured key (or the key was destroyed)."""


@sensitive_variables()
def _key_from_file(
    path: Path,
    *,
    kind: str,
    generate: Callable[[], bytes],
    data_exists: Callable[[], bool],
    remedy: str = "",
) -> bytes:
    """The key in ``path``; a missing one is generated only where nothing depends on it.

    A new key in place of a lost one would leave every value under the old one unreadable
    (or every index unmatched) without a word: that is refused, naming the file.
    """
    if not path.exists():
        if not settings.GENERATE_MISSING_KEYS:
            raise ImproperlyConfigured(
                f"No {kind} at {path}. Restore it from your key backup, or set it in the "
                "environment (see README, Configuration)."
            )
        if data_exists():
            raise ImproperlyConfigured(
                f"The {kind} at {path} is missing, but the database holds data made with it. "
                "A new key would leave it unreadable or unmatched, so none was generated: restore "
                f"{path} from your key backup (mode 0600).{remedy}"
            )
        owner_only_folder(path.parent)
        # Created 0600 from the start: the key is never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(generate())
    return path.read_bytes().strip()


#: Whether data under each key exists, asked before a missing key file is generated: a new
#: key for existing data would lock it away. The app holding the data sets these at start-up
#: (``fund.apps``); until then (or without it) data is assumed to exist, so nothing is generated.
_data_probes: dict[str, Callable[[], bool]] = {}


def register_data_probes(
    *, encrypted_data_exists: Callable[[], bool], blind_indexes_exist: Callable[[], bool]
) -> None:
    _data_probes["encrypted"] = encrypted_data_exists
    _data_probes["blind_index"] = blind_indexes_exist


def _data_exists(kind: str) -> bool:
    probe = _data_probes.get(kind)
    return True if probe is None else probe()


@lru_cache(maxsize=1)
@sensitive_variables()
def master_cipher() -> MultiFernet:
    keys = [key.encode() for key in settings.FIELD_ENCRYPTION_KEYS]
    if not keys:
        keys = [
            _key_from_file(
                Path(settings.FIELD_ENCRYPTION_KEY_FILE),
                kind="field-encryption key",
                generate=Fernet.generate_key,
                data_exists=lambda: _data_exists("encrypted"),
            )
        ]
    return MultiFernet([Fernet(key) for key in keys])


@lru_cache(maxsize=1)
@sensitive_variables()
def _blind_index_key() -> bytes:
    """BLIND_INDEX_KEY, else the key file (embedded mode); never derived from SECRET_KEY."""
    if settings.BLIND_INDEX_KEY:
        return str(settings.BLIND_INDEX_KEY).encode()
    return _key_from_file(
        Path(settings.BLIND_INDEX_KEY_FILE),
        kind="blind-index key",
        generate=lambda: secrets.token_urlsafe(32).encode("ascii"),
        data_exists=lambda: _data_exists("blind_index"),
        remedy=" If the indexes were made before the index had its own key (a demo database "
        "from before issue #14), run `manage.py rebuild_blind_index` instead: it creates the "
        "key and recomputes every index from the encrypted personnummer.",
    )


def reset_key_cache() -> None:
    """Forget loaded master and index keys (after rotation, or when tests change settings)."""
    master_cipher.cache_clear()
    _blind_index_key.cache_clear()


def new_wrapped_key() -> str:
    """A fresh data key for one person, returned wrapped by the current master key."""
    return master_cipher().encrypt(Fernet.generate_key()).decode("ascii")


def rewrap(wrapped_key: str) -> str:
    """The same data key (or master-wrapped secret) wrapped by the newest master key."""
    return master_cipher().rotate(wrapped_key.encode("ascii")).decode("ascii")


@sensitive_variables()
def wrap_with_master_keys(value: str) -> str:
    """A small secret that belongs to no person (a bank file's nonce), wrapped by the master
    keys themselves: a copy of the database without the key folder cannot read it."""
    return master_cipher().encrypt(value.encode("utf-8")).decode("ascii")


@sensitive_variables()
def unwrap_with_master_keys(wrapped: str) -> str:
    """The secret inside :func:`wrap_with_master_keys`' token."""
    try:
        return master_cipher().decrypt(wrapped.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionFailed("a value wrapped by the master keys cannot be unwrapped") from exc


@sensitive_variables()
def unwrap_data_key(wrapped_key: str) -> bytes:
    """The raw data key inside ``wrapped_key`` (for re-keying: it never leaves the process)."""
    if not wrapped_key:
        raise DecryptionFailed("this person's key has been destroyed")
    try:
        return master_cipher().decrypt(wrapped_key.encode("ascii"))
    except InvalidToken as exc:
        raise DecryptionFailed("the person's key cannot be unwrapped with the master keys") from exc


@sensitive_variables()
def new_data_key() -> tuple[bytes, str]:
    """A fresh data key, raw and wrapped by the newest master key."""
    key = Fernet.generate_key()
    return key, master_cipher().encrypt(key).decode("ascii")


@sensitive_variables()
def reencrypt(token: str, old_data_key: bytes, new_data_key: bytes) -> str:
    """The same plaintext under another data key (re-keying after a leaked master key)."""
    try:
        plain = Fernet(old_data_key).decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise DecryptionFailed("a token cannot be decrypted with its holder's data key") from exc
    return Fernet(new_data_key).encrypt(plain).decode("ascii")


@sensitive_variables()
def _person_cipher(wrapped_key: str) -> Fernet:
    return Fernet(unwrap_data_key(wrapped_key))


@sensitive_variables()
def encrypt_json(wrapped_key: str, data: dict[str, Any]) -> str:
    plain = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return _person_cipher(wrapped_key).encrypt(plain).decode("ascii")


@sensitive_variables()
def decrypt_json(wrapped_key: str, token: str) -> dict[str, Any]:
    try:
        plain = _person_cipher(wrapped_key).decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise DecryptionFailed("personal data cannot be decrypted with this person's key") from exc
    result: dict[str, Any] = json.loads(plain)
    return result


@sensitive_variables()
def blind_index(value: str) -> str:
    """A keyed hash to find duplicates without storing the value itself."""
    normalised = "".join(value.split()).replace("-", "").replace("+", "")
    return hmac.new(_blind_index_key(), normalised.encode(), hashlib.sha256).hexdigest()


def twelve_digits(number: str) -> str:
    """A valid personnummer as twelve digits (YYYYMMDDNNNC), the century from its separator.

    ``811218-9876`` and ``19811218-9876`` are one person; ``+`` marks someone over 100.
    """
    from stdnum.se import personnummer

    digits = "".join(ch for ch in personnummer.compact(number) if ch.isdigit())
    return f"{personnummer.get_birth_date(number).year // 100}{digits[-10:]}"
