"""Signed checkpoints: the key stays outside the database, signing is idempotent."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.canonical import format_timestamp
from audit.merkle import root_of
from audit.models import AuditCheckpoint, AuditEvent
from audit.note import CheckpointBody, VerifierKey, open_note
from audit.services import ChainBroken, create_checkpoint
from audit.signing import fingerprint, load_public_key
from tests.audit.conftest import attacker

pytestmark = pytest.mark.evidence("tamper")


def test_checkpoint_signature_covers_sequence_head_hash_merkle_root_and_time(chain, settings):
    events = chain(4)
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    cp = AuditCheckpoint.objects.get()
    assert (cp.sequence, cp.hash) == (4, events[-1].hash)
    assert "checkpoint at sequence 4" in out.getvalue()
    public_key = load_public_key(settings.AUDIT_PUBLIC_KEY_FILE)
    text, _ = open_note(cp.note, [VerifierKey(settings.AUDIT_LOG_ORIGIN, public_key)])
    body = CheckpointBody.parse(text)
    assert (body.origin, body.tree_size, body.chain_head) == (settings.AUDIT_LOG_ORIGIN, 4, cp.hash)
    assert body.root_hash == root_of(e.hash for e in events)
    assert body.root_hash.hex() == cp.root_hash
    assert body.time == format_timestamp(cp.created_at)
    public_key.verify(base64.b64decode(cp.signature), text.encode())
    assert cp.key_fingerprint == fingerprint(public_key)


def test_the_next_checkpoint_extends_the_merkle_tree_from_the_last_frontier(chain):
    events = chain(5)
    create_checkpoint()
    events += chain(6)
    later = create_checkpoint()
    assert later is not None
    assert bytes.fromhex(later.root_hash) == root_of(e.hash for e in events)


def test_the_signing_key_never_enters_the_database(chain, settings):
    chain(2)
    create_checkpoint()
    pem = settings.AUDIT_SIGNING_KEY_FILE.read_text()
    secret_lines = [line for line in pem.splitlines() if not line.startswith("-----")]
    stored = repr(list(AuditCheckpoint.objects.values())) + repr(list(AuditEvent.objects.values()))
    assert all(line not in stored for line in secret_lines)
    assert settings.AUDIT_SIGNING_KEY_FILE.stat().st_mode & 0o077 == 0


def test_checkpoint_is_idempotent_while_the_head_does_not_move(chain):
    chain(3)
    first = create_checkpoint()
    again = create_checkpoint()
    assert first is not None and again is not None
    assert first.pk == again.pk
    chain(1)
    later = create_checkpoint()
    assert later is not None and later.sequence == 4
    assert AuditCheckpoint.objects.count() == 2


def test_an_empty_chain_has_nothing_to_checkpoint(chain):
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "empty" in out.getvalue()
    assert not AuditCheckpoint.objects.exists()


def test_a_missing_key_fails_clearly_outside_embedded_mode(chain, settings, tmp_path):
    chain(1)
    settings.GENERATE_MISSING_KEYS = False
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "absent.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "absent.pub.pem"
    with pytest.raises(CommandError, match=r"No audit signing key at .*absent\.pem") as caught:
        call_command("audit_checkpoint")
    assert caught.value.returncode == 2
    assert not (tmp_path / "absent.pem").exists()
    assert not AuditCheckpoint.objects.exists()


def test_embedded_mode_generates_the_key_pair_once(chain, settings, tmp_path):
    chain(1)
    settings.GENERATE_MISSING_KEYS = True
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "signing.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "keys" / "signing.pub.pem"
    create_checkpoint()
    pem = settings.AUDIT_SIGNING_KEY_FILE.read_bytes()
    assert b"PRIVATE KEY" in pem
    assert b"PUBLIC KEY" in settings.AUDIT_PUBLIC_KEY_FILE.read_bytes()
    chain(1)
    create_checkpoint()
    assert settings.AUDIT_SIGNING_KEY_FILE.read_bytes() == pem


def test_no_checkpoint_is_signed_over_a_broken_chain(chain):
    chain(5)
    create_checkpoint()
    chain(3)
    with attacker():
        AuditEvent.objects.filter(sequence=7).update(payload={"step": 99})
    with pytest.raises(ChainBroken, match="sequence 7: modified"):
        create_checkpoint()
    with pytest.raises(CommandError, match="no checkpoint signed"):
        call_command("audit_checkpoint")
    assert AuditCheckpoint.objects.count() == 1


def test_no_checkpoint_is_signed_over_a_cut_tail(chain):
    chain(5)
    create_checkpoint()
    chain(3)
    with attacker():
        AuditEvent.objects.filter(sequence__gte=7).delete()
    with pytest.raises(ChainBroken, match="head row records 8 entries but the table ends at 6"):
        create_checkpoint()
    assert AuditCheckpoint.objects.count() == 1


def test_verification_without_a_public_key_cannot_pass(chain, settings, tmp_path):
    chain(2)
    create_checkpoint()
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "none.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "none.pub.pem"
    with pytest.raises(CommandError, match="no public key") as caught:
        call_command("audit_verify")
    assert caught.value.returncode == 2
