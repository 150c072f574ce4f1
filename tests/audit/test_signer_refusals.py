"""Review of issue #15: can the signer process be made to sign a rewritten or back-dated log?"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.canonical import format_timestamp
from audit.chain import Checkpoint, Problem, check_signatures, key_fingerprint
from audit.merkle import root_of
from audit.note import CheckpointBody, NoteError, raw_public_key, sign_note
from audit.signer import SignerRefused, Witness

ORIGIN = "stiftelsen.example.se/audit"
DISGUISED = f"{ORIGIN}/staff-directory"


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(Ed25519PrivateKey.generate(), ORIGIN, tmp_path / "state", clock_tolerance=60)


def _rewritten_body(origin: str, *, days_ago: float = 30) -> CheckpointBody:
    hashes = [f"{n:064x}" for n in range(1, 6)]
    at = format_timestamp(datetime.now(UTC) - timedelta(days=days_ago))
    return CheckpointBody(origin, 5, root_of(hashes), hashes[-1], at)


def test_the_signer_signs_no_checkpoint_disguised_as_a_staff_directory(witness):
    """A staff directory's first line is the only thing the signer looked at for it."""
    witness.sign(_rewritten_body(ORIGIN, days_ago=0).text())  # the log's genuine state

    with pytest.raises(SignerRefused):
        witness.sign(_rewritten_body(DISGUISED).text())  # back-dated, not extending


def test_a_checkpoint_note_of_another_log_does_not_verify_as_this_logs():
    """A note that names another origin must not count as a checkpoint of this log."""
    key = Ed25519PrivateKey.generate()
    body = _rewritten_body(DISGUISED)
    note = sign_note(body.text(), ORIGIN, key.sign, key.public_key())
    signature = base64.b64encode(key.sign(body.text().encode())).decode()
    row = Checkpoint(
        sequence=body.tree_size,
        hash=body.chain_head,
        signature=signature,
        key_fingerprint=key_fingerprint(raw_public_key(key.public_key())),
        created_at=body.time,
        note=note,
        root_hash=body.root_hash.hex(),
    )

    broken = check_signatures([row], key.public_key(), ORIGIN)

    assert broken is not None
    assert broken.problem == Problem.BAD_SIGNATURE


@pytest.mark.parametrize(
    "spelling",
    ["2026-12-01T05:00:00.000000-14:00", "2026-12-01T19:00:00+00:00", "2026-12-01 19:00:00Z"],
)
def test_a_checkpoint_time_is_spelt_one_way_only(spelling):
    """The verifier orders times as text: another spelling of an instant sorts elsewhere."""
    text = _rewritten_body(ORIGIN).text()
    text = text.rsplit("time ", 1)[0] + f"time {spelling}\n"
    with pytest.raises(NoteError):
        CheckpointBody.parse(text)
