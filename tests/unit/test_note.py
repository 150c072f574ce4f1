"""audit.note: signed notes (c2sp.org/signed-note) and checkpoint bodies (c2sp.org/tlog-checkpoint).

Known answers: the example of golang.org/x/mod/sumdb/note (the reference implementation the
C2SP spec grew from; Ed25519 is deterministic, so signing its text with its key must give
its note byte for byte) and the example of the C2SP signed-note spec.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import (
    MAX_SIGNATURES,
    CheckpointBody,
    NoteError,
    VerifierKey,
    open_note,
    parse_notes,
    sign_note,
    split_note,
)

GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
    "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
C2SP_VERIFIER_KEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6T"
    "fXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ROOT = bytes(range(32))
HEAD = "ab" * 32
TIME = "2026-12-01T19:00:00.000000Z"


def go_private_key() -> Ed25519PrivateKey:
    encoded = GO_SIGNER_KEY.split("+", 4)[4]  # the base64 itself holds a '+'
    raw = base64.b64decode(encoded)
    assert raw[0] == 1  # Ed25519
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def note_by(key: Ed25519PrivateKey, name: str = "example.org/audit", text: str = "hello\n") -> str:
    return sign_note(text, name, key.sign, key.public_key())


def test_signing_the_go_example_text_gives_the_go_example_note_byte_for_byte():
    key = go_private_key()
    assert sign_note(GO_TEXT, "PeterNeumann", key.sign, key.public_key()) == GO_NOTE


def test_the_go_example_note_opens_with_its_verifier_key():
    assert open_note(GO_NOTE, [VerifierKey.parse(GO_VERIFIER_KEY)])[0] == GO_TEXT


def test_the_c2sp_example_note_opens_with_its_verifier_key():
    text, keys = open_note(C2SP_NOTE, [VerifierKey.parse(C2SP_VERIFIER_KEY)])
    assert text == "This is an example message.\n" and keys[0].name == "example.com/foo"


def test_a_key_id_is_the_first_four_bytes_of_sha256_of_name_newline_type_and_key():
    assert VerifierKey.parse(GO_VERIFIER_KEY).id.hex() == "c74f20a3"


def test_a_verifier_key_is_written_back_exactly_as_it_was_read():
    assert VerifierKey.parse(C2SP_VERIFIER_KEY).encode() == C2SP_VERIFIER_KEY


def test_a_verifier_key_whose_id_does_not_match_is_refused():
    with pytest.raises(NoteError, match="ID does not match"):
        VerifierKey.parse(GO_VERIFIER_KEY.replace("c74f20a3", "c74f20a4"))


def test_a_verifier_key_of_another_signature_type_is_refused():
    name, hex_id, encoded = GO_VERIFIER_KEY.split("+")
    other = base64.b64encode(b"\x04" + base64.b64decode(encoded)[1:]).decode()
    with pytest.raises(NoteError, match="only Ed25519"):
        VerifierKey.parse(f"{name}+{hex_id}+{other}")


def test_a_changed_text_fails_the_signature_of_a_known_key():
    with pytest.raises(NoteError, match="does not verify"):
        open_note(
            GO_NOTE.replace("cryptography", "cryptographY"), [VerifierKey.parse(GO_VERIFIER_KEY)]
        )


def test_a_note_signed_only_by_unknown_keys_is_refused_naming_the_signers():
    with pytest.raises(NoteError, match=r"no trusted key .*PeterNeumann"):
        open_note(GO_NOTE, [VerifierKey.parse(C2SP_VERIFIER_KEY)])


def test_a_signature_by_an_unknown_key_beside_a_trusted_one_is_ignored():
    ours, theirs = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = note_by(ours)
    extra = note_by(theirs, "someone.else").split("\n\n")[1]
    cosigned = note + extra
    trusted = VerifierKey("example.org/audit", ours.public_key())
    assert open_note(cosigned, [trusted]) == ("hello\n", [trusted])


def test_a_note_text_must_end_in_a_newline():
    key = Ed25519PrivateKey.generate()
    with pytest.raises(NoteError, match="ends in a newline"):
        note_by(key, text="hello")


def test_a_note_text_may_hold_no_control_characters_but_newlines():
    key = Ed25519PrivateKey.generate()
    with pytest.raises(NoteError, match="control characters"):
        note_by(key, text="tab\there\n")


def test_a_key_name_with_a_space_or_a_plus_is_refused():
    key = Ed25519PrivateKey.generate()
    for name in ("two words", "a+b", ""):
        with pytest.raises(NoteError, match="key name"):
            note_by(key, name=name)


def test_a_signature_line_starts_with_an_em_dash_and_a_space():
    with pytest.raises(NoteError, match="em dash"):
        split_note(GO_NOTE.replace("\u2014 ", "-- "))


def test_a_note_without_a_blank_line_before_its_signatures_is_refused():
    with pytest.raises(NoteError, match="no blank line"):
        split_note("text\n\u2014 name AAAAAAA=\n")


def test_more_signatures_than_the_limit_are_refused():
    line = GO_NOTE.split("\n\n")[1]
    with pytest.raises(NoteError, match=f"more than {MAX_SIGNATURES}"):
        split_note(GO_TEXT + "\n" + line * (MAX_SIGNATURES + 1))


def test_a_checkpoint_body_is_origin_size_base64_root_then_extension_lines():
    body = CheckpointBody("example.org/audit", 1234, ROOT, HEAD, TIME)
    assert body.text() == (
        f"example.org/audit\n1234\n{base64.b64encode(ROOT).decode()}\n"
        f"chain-head {HEAD}\ntime {TIME}\n"
    )


def test_a_checkpoint_body_reads_back_what_it_wrote():
    body = CheckpointBody("example.org/audit", 0, ROOT, HEAD, TIME)
    assert CheckpointBody.parse(body.text()) == body


def test_a_checkpoint_tree_size_with_a_leading_zero_is_refused():
    text = CheckpointBody("o", 12, ROOT, HEAD, TIME).text().replace("\n12\n", "\n012\n")
    with pytest.raises(NoteError, match="tree size in decimal"):
        CheckpointBody.parse(text)


def test_a_checkpoint_root_hash_that_is_not_32_bytes_is_refused():
    with pytest.raises(NoteError, match="32 bytes"):
        CheckpointBody.parse(CheckpointBody("o", 1, ROOT[:31], HEAD, TIME).text())


def test_a_checkpoint_time_in_another_spelling_of_the_same_instant_is_refused():
    text = CheckpointBody("o", 1, ROOT, HEAD, "2026-12-01T19:00:00+00:00").text()
    with pytest.raises(NoteError, match="time is UTC"):
        CheckpointBody.parse(text)


def test_a_checkpoint_without_its_chain_head_is_refused():
    text = CheckpointBody("o", 1, ROOT, HEAD, TIME).text().replace(f"chain-head {HEAD}\n", "")
    with pytest.raises(NoteError, match="chain head"):
        CheckpointBody.parse(text)


def test_a_staff_directory_note_is_not_read_as_a_checkpoint():
    text = CheckpointBody("example.org/audit/staff-directory", 1, ROOT, HEAD, TIME).text()
    with pytest.raises(NoteError, match="staff directory"):
        CheckpointBody.parse(text)


def test_a_run_of_notes_splits_at_the_blank_line_after_each_signature_block():
    key = Ed25519PrivateKey.generate()
    first, second = note_by(key, text="one\n"), note_by(key, text="two\nlines\n")
    assert parse_notes(first + "\n" + second) == [first, second]


def test_a_run_whose_last_note_has_no_signatures_is_refused():
    key = Ed25519PrivateKey.generate()
    with pytest.raises(NoteError, match="no signatures"):
        parse_notes(note_by(key) + "\nunsigned\n")
