"""Signed notes (c2sp.org/signed-note, Ed25519) and checkpoint bodies (c2sp.org/tlog-checkpoint).

The auditors' copy of the log's state leaves the server as plain text they can read, mail and
keep: a checkpoint note signed with the log's key, and the log's verifier key beside it so a
re-keyed log is visible. Free of Django, so the offline verifier imports it with only the
standard library and ``cryptography``.

A note::

    fundflow.example/audit          origin (also the key name)
    1234                            tree size: the number of events
    CsUYapGGPo4dkMgIAUqom/Xa…=      RFC 6962 Merkle root over the event hashes, base64
    chain-head 9f2c…                the hash chain's head at that size, hex
    time 2026-12-01T19:00:00.000000Z   when it was signed (covered by the signature)

    — fundflow.example/audit AbCd…  base64(4-byte key ID || Ed25519 signature)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: The signature type byte of Ed25519 in signed notes.
ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_KEY_NAME = re.compile(r"[^\s+]+")
#: The one spelling of a checkpoint's time (``canonical.format_timestamp``): verifiers order
#: times as text, so another spelling of the same instant would sort elsewhere.
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
#: The first line of a staff directory (``<origin>/staff-directory``), which the same key signs.
STAFF_DIRECTORY_SUFFIX = "/staff-directory"
#: Generous for our notes (one or a few signatures); the spec asks to accept 16 at least.
MAX_SIGNATURES = 16


class NoteError(ValueError):
    """A note that is malformed, or that no trusted key signed."""


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4], as the spec recommends."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + raw_public_key(key)).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A trusted key: ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""

    name: str
    key: Ed25519PublicKey

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.key)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, hex (the fingerprint the checkpoint rows carry)."""
        return hashlib.sha256(raw_public_key(self.key)).hexdigest()

    def encode(self) -> str:
        body = base64.b64encode(ED25519 + raw_public_key(self.key)).decode()
        return f"{self.name}+{self.id.hex()}+{body}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold '+'; name and hex may not
        if len(parts) != 3 or not _KEY_NAME.fullmatch(parts[0]):
            raise NoteError("a verifier key is <name>+<hex key ID>+<base64 key>")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            expected_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("the verifier key is not valid hex and base64") from exc
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01) are supported")
        vkey = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if vkey.id != expected_id:
            raise NoteError("the verifier key's ID does not match its name and key")
        return vkey


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note may hold no control characters but newlines")


def sign_note(text: str, name: str, sign: Callable[[bytes], bytes], key: Ed25519PublicKey) -> str:
    """The signed note: ``text``, a blank line, one signature line by ``name``.

    ``sign`` is the signer's Ed25519 signing function (a key file, a separate signer
    process or an HSM); ``key`` its public key, for the key ID.
    """
    _check_text(text)
    if not _KEY_NAME.fullmatch(name):
        raise NoteError("a key name is non-empty with no spaces or '+'")
    signature = sign(text.encode())
    line = base64.b64encode(key_id(name, key) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {line}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


def split_note(signed: str) -> tuple[str, list[Signature]]:
    """(text, signatures) of a signed note, checking only its shape."""
    if not signed.endswith("\n"):
        raise NoteError("a signed note ends in a newline")
    cut = signed.rfind("\n\n")
    if cut < 0:
        raise NoteError("no blank line separates the note's text from its signatures")
    text, block = signed[: cut + 1], signed[cut + 2 :]
    _check_text(text)
    signatures = []
    for line in block.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("a signature is not valid base64") from exc
        if not _KEY_NAME.fullmatch(name) or len(raw) < 5:
            raise NoteError("a signature line is '— <key name> <base64 signature>'")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures:
        raise NoteError("a signed note has at least one signature")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(signed: str, trusted: Iterable[VerifierKey]) -> tuple[str, list[VerifierKey]]:
    """The note's text and the trusted keys whose signatures verify.

    As the spec says: signatures by unknown keys are ignored, a failing signature by a known
    key rejects the note, and a note no known key signed is rejected.
    """
    text, signatures = split_note(signed)
    keys = {(k.name, k.id): k for k in trusted}
    verified = []
    for sig in signatures:
        vkey = keys.get((sig.name, sig.key_id))
        if vkey is None:
            continue
        try:
            vkey.key.verify(sig.signature, text.encode())
        except InvalidSignature as exc:
            raise NoteError(f"the signature by {sig.name} does not verify") from exc
        verified.append(vkey)
    if not verified:
        names = ", ".join(sorted({s.name for s in signatures}))
        raise NoteError(f"no trusted key signed this note (signed by: {names})")
    return text, verified


# ---------------------------------------------------------------------------------------
# Checkpoint bodies


@dataclass(frozen=True)
class CheckpointBody:
    """What a checkpoint note states: the log's size, its Merkle root, chain head and time."""

    origin: str
    tree_size: int
    root_hash: bytes
    chain_head: str
    time: str

    def text(self) -> str:
        return (
            f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n"
            f"chain-head {self.chain_head}\ntime {self.time}\n"
        )

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        lines = text.split("\n")
        if lines[-1] != "" or len(lines) < 4:
            raise NoteError("a checkpoint has an origin, a tree size and a root hash")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not re.fullmatch(r"0|[1-9][0-9]*", size):
            raise NoteError("a checkpoint's second line is its tree size in decimal")
        if origin.endswith(STAFF_DIRECTORY_SUFFIX):
            raise NoteError("a staff directory is not a checkpoint")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("a checkpoint's third line is its root hash in base64") from exc
        if len(root_hash) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        fields = dict(line.partition(" ")[::2] for line in extensions)
        head, time = fields.get("chain-head", ""), fields.get("time", "")
        if not re.fullmatch(r"[0-9a-f]{64}", head) or not time:
            raise NoteError("a Fundflow checkpoint names its chain head and its time")
        if not _TIME.fullmatch(time):
            raise NoteError("a checkpoint's time is UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ")
        return cls(origin, int(size), root_hash, head, time)


def parse_notes(text: str) -> list[str]:
    """Split a run of signed notes (each followed by a blank line, or the end) into notes."""
    notes: list[str] = []
    current: list[str] = []
    in_signatures = False
    for line in text.splitlines(keepends=True):
        if line == "\n":
            if in_signatures:
                notes.append("".join(current))
                current, in_signatures = [], False
                continue
            if not current:
                continue
            in_signatures = True
            current.append(line)
            continue
        if in_signatures and not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a note's signatures are followed by a blank line or the end")
        current.append(line)
    if in_signatures:
        notes.append("".join(current))
    elif any(line.strip() for line in current):
        raise NoteError("the last note has no signatures")
    return notes


def checkpoint_notes(
    signed_notes: Sequence[str], trusted: Iterable[VerifierKey]
) -> list[CheckpointBody]:
    keys = list(trusted)
    return [CheckpointBody.parse(open_note(note, keys)[0]) for note in signed_notes]
