"""Merkle proofs for auditors: one case's decision is in the log, a checkpoint extends another.

Built by ``manage.py audit_proof`` from the database, checked offline by ``python -m
audit.proof`` against the checkpoint file the auditor keeps — whose key is the trusted one.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import proof
from audit.canonical import event_hash
from audit.chain import Entry
from audit.checkpoints import auditors_file, create_checkpoint
from audit.merkle import LeafHashes, consistency_proof, leaf_hash, verify_consistency
from audit.models import AuditCheckpoint, AuditEvent, AuditHead
from audit.note import CheckpointBody, sign_note, split_note
from audit.proofs import consistency_document, consistency_proof_between_sizes, inclusion_document
from tests.audit.conftest import attacker

pytestmark = pytest.mark.evidence("tamper")
ROOT = Path(__file__).resolve().parents[2]


def keep(path: Path, *checkpoints: AuditCheckpoint) -> Path:
    """What the auditor downloaded and kept: the checkpoint file with these checkpoints."""
    path.write_text(auditors_file(list(checkpoints)), encoding="utf-8")
    return path


def audit_proof(tmp_path: Path, *args: str) -> Path:
    output = tmp_path / "proof.json"
    call_command("audit_proof", *args, "--output", str(output), stdout=StringIO())
    return output


def check(proof_file: Path, *held: Path, capsys: Any) -> tuple[int, str]:
    status = proof.main([str(proof_file), "--against", *map(str, held)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def rewrite_and_rehash(sequence: int, change: Any) -> None:
    """The insider: triggers dropped, one event changed, every later hash recomputed."""
    with attacker():
        event = AuditEvent.objects.get(sequence=sequence)
        change(event)
        AuditEvent.objects.filter(pk=event.pk).update(payload=event.payload)
        prev = AuditEvent.objects.get(sequence=sequence - 1).hash if sequence > 1 else "0" * 64
        for later in AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"):
            later.prev_hash = prev
            later.hash = event_hash(later.hashed_fields())
            AuditEvent.objects.filter(pk=later.pk).update(
                prev_hash=later.prev_hash, hash=later.hash
            )
            prev = later.hash
        AuditHead.objects.filter(pk=1).update(hash=prev)


def decided_case(world: Any) -> AuditEvent:
    """The decision on one case: the event an auditor most wants to find in the log."""
    app = world.to_approved(world.new_application("13650"))
    return AuditEvent.objects.get(action="decision.signed", object_ref=app.reference)


def test_inclusion_proof_for_one_event_verifies_offline(world, tmp_path, capsys):
    decision = decided_case(world)
    world.to_approved(world.new_application("800"))  # the log goes on after the decision
    checkpoint = create_checkpoint()
    held = keep(tmp_path / "checkpoints.txt", checkpoint)

    proof_file = audit_proof(tmp_path, "--event", str(decision.sequence))
    status, output = check(proof_file, held, capsys=capsys)

    assert status == 0, output
    signed_at = CheckpointBody.parse(split_note(checkpoint.note)[0]).time
    assert output.strip() == (
        f"event {decision.sequence} (decision.signed, {decision.object_ref}) is in the log "
        f"of {checkpoint.sequence} events signed at {signed_at}"
    )
    document = json.loads(proof_file.read_text())
    assert document["type"] == "fundflow-audit-inclusion/v1"
    assert document["leaf_index"] == decision.sequence - 1
    assert len(document["proof"]) <= (checkpoint.sequence - 1).bit_length()


def test_consistency_proof_between_two_checkpoints_verifies_offline(chain, tmp_path, capsys):
    chain(5)
    first = create_checkpoint()
    held = keep(tmp_path / "checkpoints.txt", first)
    chain(8)
    second = create_checkpoint()

    proof_file = audit_proof(tmp_path, "--consistency", "5", "13")
    status, output = check(proof_file, held, capsys=capsys)

    assert status == 0, output
    assert output.startswith("the log of 13 events signed at ")
    assert "extends the log of 5 events" in output
    assert json.loads(proof_file.read_text())["type"] == "fundflow-audit-consistency/v1"
    assert second.sequence == 13


def test_a_rewritten_event_fails_its_inclusion_proof(world, tmp_path, capsys):
    decision = decided_case(world)
    checkpoint = create_checkpoint()
    held = keep(tmp_path / "checkpoints.txt", checkpoint)
    proof_file = audit_proof(tmp_path, "--event", str(decision.sequence))
    document = json.loads(proof_file.read_text())
    text = json.dumps(document["event"]["payload"])
    assert "13650" in text
    document["event"]["payload"] = json.loads(text.replace("13650", "136500"))
    entry = Entry(**document["event"])
    document["event"]["hash"] = entry.computed_hash()  # consistent in itself
    proof_file.write_text(json.dumps(document))

    status, output = check(proof_file, held, capsys=capsys)

    assert status == 1
    assert output.startswith(f"proof FAILED: event {decision.sequence} is not in the log of ")


def test_an_event_changed_in_the_proof_file_fails_on_its_own_hash(chain, tmp_path, capsys):
    chain(6)
    held = keep(tmp_path / "checkpoints.txt", create_checkpoint())
    proof_file = audit_proof(tmp_path, "--event", "3")
    document = json.loads(proof_file.read_text())
    document["event"]["object_ref"] = "A-2026-000002"
    proof_file.write_text(json.dumps(document))

    assert check(proof_file, held, capsys=capsys) == (
        1,
        "proof FAILED: event 3's content does not match its hash: it was changed\n",
    )


def test_a_log_rewritten_and_re_signed_with_the_server_key_contradicts_the_held_checkpoint(
    world, tmp_path, capsys
):
    decision = decided_case(world)
    original = create_checkpoint()
    held = keep(tmp_path / "checkpoints.txt", original)

    def tenfold(event: AuditEvent) -> None:
        event.payload = json.loads(json.dumps(event.payload).replace("13650", "136500"))

    rewrite_and_rehash(decision.sequence, tenfold)
    with attacker():  # the insider deletes the checkpoint and re-signs with the server's key
        AuditCheckpoint.objects.all().delete()
    resigned = create_checkpoint()
    assert resigned.sequence == original.sequence and resigned.root_hash != original.root_hash

    proof_file = audit_proof(tmp_path, "--event", str(decision.sequence))
    status, output = check(proof_file, held, capsys=capsys)

    assert status == 1
    assert output.startswith(
        f"proof FAILED: the proof's checkpoint ({original.sequence} events, signed at "
    )
    assert f"contradicts the checkpoint you hold from {held}" in output


def test_a_rewritten_log_cannot_prove_consistency_with_the_held_checkpoint(chain, tmp_path, capsys):
    chain(5)
    first = create_checkpoint()
    held = keep(tmp_path / "checkpoints.txt", first)
    chain(6)

    def changed(event: AuditEvent) -> None:
        event.payload = {**event.payload, "amount": "99999.00"}

    rewrite_and_rehash(3, changed)
    with attacker():
        AuditCheckpoint.objects.all().delete()
    resigned = create_checkpoint()  # the insider signs the rewritten log of 11 with the key
    with pytest.raises(ValueError, match="no longer hash to the Merkle root checkpoint 5"):
        consistency_document(first, resigned)  # the server will not build it …
    leaves = LeafHashes()  # … so the insider computes the proof from the rewritten events
    for digest in AuditEvent.objects.order_by("sequence").values_list("hash", flat=True):
        leaves.append(leaf_hash(digest))
    document = {
        "type": "fundflow-audit-consistency/v1",
        "old": {"tree_size": 5, "checkpoint": first.note},
        "new": {"tree_size": 11, "checkpoint": resigned.note},
        "proof": [base64.b64encode(h).decode() for h in consistency_proof(leaves, 5, 11)],
    }
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(document))

    status, output = check(proof_file, held, capsys=capsys)

    assert status == 1
    assert output.startswith("proof FAILED: the log of 11 events (signed at ")
    assert "does not extend the log of 5 events" in output


def test_proofs_are_refused_when_the_log_no_longer_matches_its_checkpoint(chain, tmp_path):
    chain(9)
    create_checkpoint()

    def changed(event: AuditEvent) -> None:
        event.payload = {**event.payload, "amount": "1.00"}

    rewrite_and_rehash(4, changed)
    with pytest.raises(CommandError, match="no longer hash to the Merkle root checkpoint 9"):
        audit_proof(tmp_path, "--event", "2")


def test_proofs_need_a_signed_note_a_covered_event_and_an_older_first_checkpoint(chain):
    chain(4)
    first = create_checkpoint()
    chain(2)
    second = create_checkpoint()
    with pytest.raises(ValueError, match="not covered by checkpoint 4"):
        inclusion_document(5, first)
    with pytest.raises(ValueError, match="not older than checkpoint 4"):
        consistency_document(second, first)
    with pytest.raises(ValueError, match="not older than checkpoint 6"):
        consistency_document(second, second)
    old_format = AuditCheckpoint(sequence=4, hash=first.hash, note="")
    with pytest.raises(ValueError, match="first format"):
        inclusion_document(1, old_format)


def test_a_proof_signed_by_another_key_is_refused_by_the_auditors_key(chain, tmp_path, capsys):
    chain(3)
    held = keep(tmp_path / "checkpoints.txt", create_checkpoint())
    document = inclusion_document(2, AuditCheckpoint.objects.get())
    text = split_note(document["checkpoint"])[0]
    other = Ed25519PrivateKey.generate()
    origin = CheckpointBody.parse(text).origin
    document["checkpoint"] = sign_note(text, origin, other.sign, other.public_key())
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(document))

    status, output = check(proof_file, held, capsys=capsys)

    assert status == 1
    assert "is not signed by the key in your file: no trusted key signed this note" in output


def test_unreadable_files_exit_2(chain, tmp_path, capsys):
    chain(2)
    held = keep(tmp_path / "checkpoints.txt", create_checkpoint())
    not_json = tmp_path / "proof.json"
    not_json.write_text("{")
    assert check(not_json, held, capsys=capsys)[0] == 2
    assert check(tmp_path / "missing.json", held, capsys=capsys)[0] == 2
    other = tmp_path / "other.json"
    other.write_text('{"type": "something-else"}')
    assert check(other, held, capsys=capsys)[0] == 2
    assert check(other, tmp_path / "no-checkpoints.txt", capsys=capsys)[0] == 2


def test_the_offline_proof_checker_needs_no_django():
    code = "import sys, audit.proof; sys.exit('django' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr


def test_the_signer_gets_a_consistency_proof_between_two_sizes_of_the_log(chain):
    chain(7)
    first = create_checkpoint()
    chain(10)
    second = create_checkpoint()
    proof = consistency_proof_between_sizes(7, 17)
    old_root, new_root = bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash)
    verify_consistency(7, 17, old_root, new_root, proof)
    assert consistency_proof_between_sizes(17, 17) == []
    with pytest.raises(ValueError, match="fewer leaves"):
        consistency_proof_between_sizes(7, 18)
