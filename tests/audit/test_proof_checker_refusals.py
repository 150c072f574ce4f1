"""Review of issue #15: can the offline proof checker be made to say an event is in the log?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit import proof
from audit.checkpoints import create_checkpoint
from audit.models import AuditEvent
from tests.audit.conftest import append
from tests.audit.insider import rewrite_history
from tests.audit.test_proofs import audit_proof, keep


def _check(proof_file: Path, held: Path, capsys: Any) -> tuple[int, str]:
    status = proof.main([str(proof_file), "--against", str(held)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_rewritten_event_is_not_proven_by_a_newer_checkpoint_the_auditor_does_not_hold(
    chain, tmp_path, capsys
):
    """The insider rewrites an event the auditor's checkpoint covers, lets the log grow,
    and proves the rewritten event against a fresh checkpoint signed with the server's key."""
    chain(10)
    held = keep(tmp_path / "checkpoints.txt", create_checkpoint())
    append(5)
    rewrite_history(4, {"amount": "15005.00"})  # every checkpoint re-signed, as the insider can
    assert AuditEvent.objects.get(sequence=4).payload["amount"] == "15005.00"
    assert create_checkpoint().sequence == 15

    proof_file = audit_proof(tmp_path, "--event", "4")  # against the latest: 15, not held
    status, output = _check(proof_file, held, capsys)

    assert status == 1, output
    assert "is in the log" not in output
    assert "--checkpoint 10" in output


@pytest.mark.parametrize(
    "field, value",
    [("sequence", "4"), ("hash", "not hex"), ("actor_id", "x"), ("payload", {"a": 1.5e999})],
)
def test_a_malformed_event_in_a_proof_file_exits_2_or_fails(chain, tmp_path, capsys, field, value):
    chain(6)
    held = keep(tmp_path / "checkpoints.txt", create_checkpoint())
    proof_file = audit_proof(tmp_path, "--event", "4")
    document = json.loads(proof_file.read_text())
    document["event"][field] = value
    proof_file.write_text(json.dumps(document))

    status, output = _check(proof_file, held, capsys)

    assert status in (1, 2), output
    assert "Traceback" not in output
    assert "is in the log" not in output
