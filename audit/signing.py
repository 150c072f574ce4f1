"""The Ed25519 key that signs checkpoints, behind a small signer interface.

The key never lives in the database. By default it is a file (``AUDIT_SIGNER=file``); in
embedded mode (``settings.GENERATE_MISSING_KEYS``) a missing pair is generated on first use,
otherwise a missing key is a configuration error, stated plainly. With
``AUDIT_SIGNER=socket:/run/fundflow-signer/signer.sock`` the key stays with a separate signer
process under its own user (:mod:`audit.signer`), out of the application user's reach; an
HSM or KMS plugs in the same way, as any object with ``public_key()`` and ``sign(message)``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.canonical import checkpoint_message
from audit.chain import key_fingerprint
from audit.note import VerifierKey
from audit.note import sign_note as _sign_note


class SigningKeyMissing(ImproperlyConfigured):
    """No signing key where the settings say, and generating one is not allowed."""


#: Whether the database holds something made with the signing key (its canary or a signed
#: checkpoint), asked before a missing pair is generated; set by ``fund.apps``. Until then
#: data is assumed to exist.
_signing_data_probe: list[Callable[[], bool]] = []


def register_signing_data_probe(probe: Callable[[], bool]) -> None:
    _signing_data_probe[:] = [probe]


def _signing_data_exists() -> bool:
    return not _signing_data_probe or _signing_data_probe[0]()


def _generate(private_path: Path, public_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # Created with 0600 from the start: the key is never readable by others, not even briefly.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )


def signing_key() -> Ed25519PrivateKey:
    private_path = Path(settings.AUDIT_SIGNING_KEY_FILE)
    public_path = Path(settings.AUDIT_PUBLIC_KEY_FILE)
    if not private_path.exists():
        if not settings.GENERATE_MISSING_KEYS:
            raise SigningKeyMissing(
                f"No audit signing key at {private_path} (AUDIT_SIGNING_KEY_FILE). Create an "
                "Ed25519 key pair there (PEM, PKCS#8) and its public key at "
                "AUDIT_PUBLIC_KEY_FILE, or set GENERATE_MISSING_KEYS=1 in embedded mode."
            )
        if _signing_data_exists():
            raise SigningKeyMissing(
                f"The audit signing key at {private_path} (AUDIT_SIGNING_KEY_FILE) is missing, "
                "but the database records the key it was made with. A new key would sign "
                "checkpoints the auditors cannot tie to the old ones, so none was generated: "
                f"restore {private_path} and {public_path} from your key backup (mode 0600)."
            )
        _generate(private_path, public_path)
    key = load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{private_path} does not hold an Ed25519 private key.")
    if not public_path.exists():
        public_path.parent.mkdir(parents=True, exist_ok=True)
        public_path.write_bytes(
            key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ImproperlyConfigured(f"{path} does not hold an Ed25519 public key.")
    return key


def public_key() -> Ed25519PublicKey | None:
    """The configured verification key, or None when there is none yet."""
    path = Path(settings.AUDIT_PUBLIC_KEY_FILE)
    if path.exists():
        return load_public_key(path)
    if Path(settings.AUDIT_SIGNING_KEY_FILE).exists():
        return signing_key().public_key()
    return None


def fingerprint(key: Ed25519PublicKey) -> str:
    return key_fingerprint(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign_checkpoint(sequence: int, head_hash: str) -> tuple[str, str]:
    """(base64 signature, fingerprint) in the first checkpoint format (kept for old rows)."""
    key = signing_key()
    signature = key.sign(checkpoint_message(sequence, head_hash))
    return base64.b64encode(signature).decode("ascii"), fingerprint(key.public_key())


class Signer(Protocol):
    """Anything that holds the log's Ed25519 key: a file, a signer process, an HSM or KMS."""

    def public_key(self) -> Ed25519PublicKey: ...

    def sign(self, message: bytes) -> bytes: ...


class FileSigner:
    """The key in ``AUDIT_SIGNING_KEY_FILE``, readable by the application user."""

    def public_key(self) -> Ed25519PublicKey:
        return signing_key().public_key()

    def sign(self, message: bytes) -> bytes:
        return signing_key().sign(message)


def signer() -> Signer:
    """The configured signer (``AUDIT_SIGNER``: ``file`` or ``socket:<path>``)."""
    setting = str(getattr(settings, "AUDIT_SIGNER", "file") or "file")
    if setting == "file":
        return FileSigner()
    if setting.startswith("socket:"):
        from audit.signer import SocketSigner

        return SocketSigner(setting.removeprefix("socket:"))
    raise ImproperlyConfigured(f"AUDIT_SIGNER must be 'file' or 'socket:<path>', not {setting!r}")


def log_origin() -> str:
    """The log's name: first line of every checkpoint and the signing key's name."""
    return str(settings.AUDIT_LOG_ORIGIN)


def verifier_key(key: Ed25519PublicKey | None = None) -> VerifierKey:
    """The log's verifier key (``<origin>+<key id>+<key>``), for the auditors' file."""
    return VerifierKey(log_origin(), key if key is not None else signer().public_key())


def sign_note(text: str) -> str:
    """``text`` as a signed note under the log's name and key."""
    active = signer()
    return _sign_note(text, log_origin(), active.sign, active.public_key())
