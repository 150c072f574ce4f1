"""Every kind of tampering is found by ``audit_verify``, which names the first broken entry.

The attacker has database owner rights: they drop the triggers, tamper, and recreate them.
Only the checkpoint signing key (outside the database) is out of their reach.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command

from audit.canonical import event_hash
from audit.models import AuditCheckpoint, AuditEvent, AuditHead
from tests.audit.conftest import attacker, verify

pytestmark = [pytest.mark.evidence("tamper"), pytest.mark.usefixtures("verifications_as_evidence")]

FAR = 10**9


def _swap(a: int, b: int) -> None:
    AuditEvent.objects.filter(sequence=a).update(sequence=FAR)
    AuditEvent.objects.filter(sequence=b).update(sequence=a)
    AuditEvent.objects.filter(sequence=FAR).update(sequence=b)


def _rehash_from(start: int) -> None:
    """Rewrite the chain consistently from ``start`` on, as anyone without the key can."""
    prev = AuditEvent.objects.get(sequence=start - 1).hash if start > 1 else "0" * 64
    for event in AuditEvent.objects.filter(sequence__gte=start).order_by("sequence"):
        event.prev_hash = prev
        event.hash = event_hash(event.hashed_fields())
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
        prev = event.hash
    AuditHead.objects.filter(pk=1).update(hash=prev)


def test_an_intact_chain_verifies_with_a_one_line_summary(chain):
    chain(12)
    call_command("audit_checkpoint")
    status, output = verify()
    assert status == 0
    assert output.strip().count("\n") == 0
    assert "intact: 12 entries (1...12)" in output
    assert "1 signed checkpoints verified" in output


def test_a_changed_payload_is_found_at_its_sequence(chain):
    chain(10)
    with attacker():
        AuditEvent.objects.filter(sequence=4).update(payload={"step": 3, "amount": "9999.00"})
    status, output = verify()
    assert status == 1
    assert "sequence 4: modified" in output


def test_a_changed_and_rehashed_entry_is_found_by_the_next_link(chain):
    chain(10)
    with attacker():
        event = AuditEvent.objects.get(sequence=6)
        event.actor_role = "treasurer"
        AuditEvent.objects.filter(pk=event.pk).update(
            actor_role="treasurer", hash=event_hash(event.hashed_fields())
        )
    status, output = verify()
    assert status == 1
    assert "sequence 6: modified" in output
    assert "re-hashed" in output


def test_a_deleted_entry_is_found_as_missing(chain):
    chain(10)
    with attacker():
        AuditEvent.objects.filter(sequence=5).delete()
    status, output = verify()
    assert status == 1
    assert "sequence 5: missing (deleted)" in output


def test_a_deleted_entry_with_later_entries_renumbered_is_found_as_missing(chain):
    chain(10)
    with attacker():
        AuditEvent.objects.filter(sequence=5).delete()
        for seq in range(6, 11):
            AuditEvent.objects.filter(sequence=seq).update(sequence=seq - 1)
    status, output = verify()
    assert status == 1
    assert "sequence 5: missing (deleted)" in output


def test_an_inserted_entry_is_found_even_when_hashed_correctly(chain):
    events = chain(10)
    with attacker():
        for seq in range(10, 4, -1):
            AuditEvent.objects.filter(sequence=seq).update(sequence=seq + 1)
        forged = AuditEvent(
            sequence=5,
            occurred_at=events[4].occurred_at,
            actor_role="decision_maker",
            action="application.approve",
            object_type="application",
            object_ref="A-2026-000001",
            payload={"to": "approved"},
            prev_hash=events[3].hash,
        )
        forged.hash = event_hash(forged.hashed_fields())
        forged.save()
    status, output = verify()
    assert status == 1
    assert "sequence 5: inserted" in output
    assert "the original entry 5 now sits at 6" in output


def test_two_swapped_entries_are_found_as_reordered(chain):
    chain(10)
    with attacker():
        _swap(5, 6)
    status, output = verify()
    assert status == 1
    assert "sequence 5: reordered" in output
    assert "original entry 6" in output


def test_entries_swapped_far_apart_are_found_at_the_first(chain):
    chain(30)
    with attacker():
        _swap(3, 27)
    status, output = verify()
    assert status == 1
    assert "sequence 3: reordered" in output


def test_a_tail_truncated_after_a_checkpoint_is_found(chain):
    chain(10)
    call_command("audit_checkpoint")
    with attacker():
        AuditEvent.objects.filter(sequence__gte=8).delete()
        last = AuditEvent.objects.get(sequence=7)
        AuditHead.objects.filter(pk=1).update(sequence=7, hash=last.hash)
    status, output = verify()
    assert status == 1
    assert "sequence 8: truncated" in output
    assert "entries 8..10 are gone" in output


def test_a_truncated_tail_past_the_last_checkpoint_is_found_by_the_head_row(chain):
    chain(6)
    call_command("audit_checkpoint")
    chain(4)
    with attacker():
        AuditEvent.objects.filter(sequence__gte=9).delete()
    status, output = verify()
    assert status == 1
    assert "sequence 9: truncated" in output


def test_a_chain_rewritten_consistently_is_caught_by_the_signed_checkpoint(chain):
    chain(10)
    call_command("audit_checkpoint")
    with attacker():
        AuditEvent.objects.filter(sequence=3).update(payload={"step": 2, "amount": "1.00"})
        _rehash_from(3)
    status, output = verify()
    assert status == 1
    assert "sequence 1: rewritten" in output
    assert "entries 1..10 were rewritten without the signing key" in output


def test_a_rewrite_after_a_good_checkpoint_is_narrowed_down_to_after_it(chain):
    chain(5)
    call_command("audit_checkpoint")
    chain(5)
    call_command("audit_checkpoint")
    with attacker():
        AuditEvent.objects.filter(sequence=8).update(payload={"step": 0})
        _rehash_from(8)
    status, output = verify()
    assert status == 1
    assert "sequence 6: rewritten" in output
    assert "entries 6..10" in output


def test_a_forged_checkpoint_signature_is_found(chain):
    chain(8)
    call_command("audit_checkpoint")
    with attacker():
        cp = AuditCheckpoint.objects.get()
        forged = hashlib.sha256(b"forged").hexdigest()
        AuditCheckpoint.objects.filter(pk=cp.pk).update(hash=forged)
    status, output = verify()
    assert status == 1
    assert "sequence 8: bad checkpoint signature" in output


def test_a_checkpoint_signed_with_another_key_is_found(chain, settings, tmp_path):
    from audit.signing import signing_key

    chain(8)
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "right.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "right.pub.pem"
    # The foundation's real key pair, made before any checkpoint: once a checkpoint exists,
    # a missing key is never generated again (issue #18).
    signing_key()
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "other.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "other.pub.pem"
    call_command("audit_checkpoint")
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "right.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "right.pub.pem"
    status, output = verify()
    assert status == 1
    assert "sequence 8: bad checkpoint signature" in output
    assert "not the configured public key" in output


@pytest.mark.parametrize("count", [1, 2])
def test_the_first_entry_changed_is_found_at_sequence_1(chain, count):
    chain(count)
    with attacker():
        AuditEvent.objects.filter(sequence=1).update(action="application.approve")
    status, output = verify()
    assert status == 1
    assert "sequence 1: modified" in output
