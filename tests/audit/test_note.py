"""Signed notes (c2sp.org/signed-note) and checkpoint bodies, as the auditors' files use them."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint_file import parse_checkpoint_file, write_checkpoint_file
from audit.note import (
    CheckpointBody,
    NoteError,
    VerifierKey,
    open_note,
    raw_public_key,
    sign_note,
)


def _key_with_plus_in_base64() -> Ed25519PrivateKey:
    while True:
        key = Ed25519PrivateKey.generate()
        if "+" in base64.b64encode(b"\x01" + raw_public_key(key.public_key())).decode():
            return key


def test_a_verifier_key_round_trips_even_when_its_base64_holds_a_plus():
    key = _key_with_plus_in_base64()
    vkey = VerifierKey("example.org/audit", key.public_key())
    parsed = VerifierKey.parse(vkey.encode())
    assert parsed.fingerprint == vkey.fingerprint and parsed.name == vkey.name


def test_a_note_signed_by_the_log_opens_with_its_key_and_not_with_another():
    key = Ed25519PrivateKey.generate()
    body = CheckpointBody(
        "example.org/audit", 3, b"\x07" * 32, "ab" * 32, "2026-12-01T10:00:00.000000Z"
    )
    note = sign_note(body.text(), "example.org/audit", key.sign, key.public_key())
    text, _ = open_note(note, [VerifierKey("example.org/audit", key.public_key())])
    assert CheckpointBody.parse(text) == body
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(note, [VerifierKey("example.org/audit", other)])
    with pytest.raises(NoteError, match="does not verify"):
        open_note(
            note.replace("\n3\n", "\n4\n"), [VerifierKey("example.org/audit", key.public_key())]
        )


def test_the_auditors_file_holds_several_notes_and_their_tokens():
    key = Ed25519PrivateKey.generate()
    vkey = VerifierKey("example.org/audit", key.public_key())
    notes = [
        sign_note(
            CheckpointBody(
                vkey.name, n, bytes([n]) * 32, "cd" * 32, f"2026-12-01T10:0{n}:00.000000Z"
            ).text(),
            vkey.name,
            key.sign,
            key.public_key(),
        )
        for n in (1, 2, 3)
    ]
    token = base64.b64encode(b"token-bytes").decode()
    parsed = parse_checkpoint_file(write_checkpoint_file(vkey, notes, {notes[1]: token}))
    assert parsed.notes == notes
    assert parsed.tokens == {notes[1]: b"token-bytes"}
    assert parsed.vkey.fingerprint == vkey.fingerprint
