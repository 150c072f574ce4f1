"""Issue #15: the signing key out of the operator's reach — a signer process that is a witness.

The application asks ``python -m audit.signer`` (another user in production) over a Unix
socket. The signer signs a checkpoint only if it is dated by its own clock and extends the
last one it signed: whoever holds the database and the application's account cannot get a
rewritten or back-dated history signed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from audit.canonical import format_timestamp
from audit.checkpoints import create_checkpoint
from audit.merkle import LeafHashes, consistency_proof, leaf_hash
from audit.note import CheckpointBody
from audit.signer import SignerRefused, Witness
from audit.verification import verify_chain
from tests.audit.conftest import append
from tests.audit.insider import rewrite_history

ORIGIN = "stiftelsen.example.se/audit"


def _body(size: int, leaves: LeafHashes, *, time_offset: float = 0.0) -> CheckpointBody:
    from audit.merkle import subtree_root

    at = datetime.now(UTC) + timedelta(seconds=time_offset)
    return CheckpointBody(
        ORIGIN, size, subtree_root(leaves, 0, size), "ab" * 32, format_timestamp(at)
    )


def _leaves(count: int) -> LeafHashes:
    leaves = LeafHashes()
    for n in range(count):
        leaves.append(leaf_hash(f"{n:064x}"))
    return leaves


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(Ed25519PrivateKey.generate(), ORIGIN, tmp_path / "state", clock_tolerance=60)


def test_the_signer_refuses_a_back_dated_checkpoint(witness):
    with pytest.raises(SignerRefused, match="back-dated"):
        witness.sign(_body(3, _leaves(3), time_offset=-3600).text())


def test_the_signer_signs_a_checkpoint_that_extends_the_last_with_a_consistency_proof(witness):
    leaves = _leaves(9)
    witness.sign(_body(5, leaves).text())
    proof = consistency_proof(leaves, 5, 9)
    later = _body(9, leaves)
    signature = witness.sign(later.text(), proof)
    witness.key.public_key().verify(signature, later.text().encode())
    assert witness.state() is not None and witness.state().size == 9


def test_the_signer_refuses_a_rewritten_history(witness):
    witness.sign(_body(5, _leaves(9)).text())
    rewritten = LeafHashes()
    for index in range(9):
        rewritten.append(leaf_hash(("ff" if index == 2 else "00") * 32))
    with pytest.raises(SignerRefused, match="does not extend"):
        witness.sign(_body(9, rewritten).text(), consistency_proof(rewritten, 5, 9))
    with pytest.raises(SignerRefused, match="rewritten"):
        witness.sign(_body(5, rewritten).text())
    with pytest.raises(SignerRefused, match="removed"):
        witness.sign(_body(4, rewritten).text())


def test_the_signer_signs_nothing_but_checkpoints_of_its_log_and_staff_directories(witness):
    with pytest.raises(SignerRefused, match="not a checkpoint"):
        witness.sign("any text at all\n")
    foreign = _body(3, _leaves(3))
    with pytest.raises(SignerRefused, match="not of"):
        witness.sign(foreign.text().replace(ORIGIN, "other.example/audit", 1))
    witness.sign(f"{ORIGIN}/staff-directory\nperiod 2026-01-01 2026-12-31\n")


# ---------------------------------------------------------------------------------------
# The application with a signer process


@pytest.fixture
def signer_process(settings) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="signer-", dir="/tmp"))  # short: a socket path
    key = Ed25519PrivateKey.generate()
    (folder / "key.pem").write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (folder / "key.pub.pem").write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    socket_path = folder / "signer.sock"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "audit.signer",
            "--key",
            str(folder / "key.pem"),
            "--socket",
            str(socket_path),
            "--state",
            str(folder / "state"),
            "--origin",
            settings.AUDIT_LOG_ORIGIN,
        ],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not socket_path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the signer did not start"
        time.sleep(0.05)
    # The application holds no private key at all.
    settings.AUDIT_SIGNER = f"socket:{socket_path}"
    settings.AUDIT_SIGNING_KEY_FILE = folder / "absent.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = folder / "key.pub.pem"
    settings.GENERATE_MISSING_KEYS = False
    yield folder
    process.terminate()
    process.wait(timeout=10)


def test_checkpoints_are_signed_by_the_signer_process_without_a_key_in_the_application(
    chain, signer_process
):
    append(4)
    first = create_checkpoint()
    append(3)
    second = create_checkpoint()
    assert first is not None and second is not None and second.sequence == 7
    assert not (signer_process / "absent.pem").exists()
    assert verify_chain().ok


def test_an_insider_with_the_database_cannot_get_a_rewritten_history_signed(chain, signer_process):
    from audit.models import AuditCheckpoint
    from tests.audit.conftest import attacker

    append(5)
    create_checkpoint()
    # Re-signing the rewritten history at the signed size: refused.
    with pytest.raises(SignerRefused, match="rewritten"):
        rewrite_history(2, {"amount": "15005.00"})
    # Or growing the rewritten log and asking for a new checkpoint: refused too.
    with attacker():
        AuditCheckpoint.objects.all().delete()
    append(2)
    with pytest.raises(SignerRefused, match="does not extend"):
        create_checkpoint()


def test_a_database_rewrite_contradicts_the_signer_process_at_once(chain, signer_process):
    """audit_verify holds the chain against the signer's last checkpoint, kept outside the
    database: deleting the checkpoint rows and rewriting the chain shows without waiting
    for the next checkpoint to be refused."""
    from audit.chain import Problem
    from audit.models import AuditCheckpoint
    from tests.audit.conftest import attacker

    append(5)
    create_checkpoint()
    assert verify_chain().ok
    rewrite_history(2, {"amount": "15005.00"}, resign=False)
    with attacker():
        AuditCheckpoint.objects.all().delete()
    outcome = verify_chain()
    assert outcome.broken is not None
    assert outcome.broken.problem == Problem.CONTRADICTS_HELD
    assert "the signer process's last signed checkpoint" in outcome.broken.detail
