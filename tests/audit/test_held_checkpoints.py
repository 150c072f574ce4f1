"""Issue #15: checkpoints held outside the server catch a rewrite the server cannot see."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from audit.chain import Problem
from audit.checkpoint_file import parse_checkpoint_file, read_held_checkpoints
from audit.checkpoints import auditors_file, create_checkpoint
from audit.models import AuditEvent
from audit.note import NoteError
from audit.verification import verify_chain
from audit.verify import main as offline_verify
from tests.audit.insider import rewrite_history

pytestmark = pytest.mark.evidence("tamper")


def _keep(tmp_path: Path, name: str = "kept-by-the-revisor.txt") -> Path:
    """What an auditor downloads and keeps: the checkpoint file as it is now."""
    path = tmp_path / name
    path.write_text(auditors_file(), encoding="utf-8")
    return path


def _audit_verify(*files: Path) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "audit_verify",
            *(["--against", *map(str, files)] if files else []),
            stdout=out,
            stderr=err,
        )
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_insider_rewrite_resigned_with_the_servers_key_fails_against_a_held_checkpoint(
    chain, tmp_path
):
    chain(10)
    create_checkpoint()
    kept = _keep(tmp_path)
    chain(5)
    create_checkpoint()
    approved = AuditEvent.objects.get(sequence=4).payload["amount"]
    assert Decimal(approved) == Decimal("1500.50")

    rewrite_history(4, {"amount": "15005.00"})

    # The server's own view: every hash, link and signature is consistent.
    assert verify_chain().ok, verify_chain().line()
    assert _audit_verify()[0] == 0
    # Against what the revisor kept, the rewrite shows, naming the checkpoint it contradicts.
    status, output = _audit_verify(kept)
    assert status == 1
    assert "BROKEN at sequence 10" in output
    assert str(Problem.CONTRADICTS_HELD) in output
    assert "kept-by-the-revisor.txt" in output


def test_the_offline_verifier_fails_a_rewritten_trail_against_a_held_checkpoint(
    chain, tmp_path, capsys
):
    chain(6)
    create_checkpoint()
    kept = _keep(tmp_path)
    rewrite_history(2, {"amount": "99999.00"})
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    capsys.readouterr()

    status = offline_verify([str(trail), "--against", str(kept)])
    output = capsys.readouterr().out

    assert status == 1
    assert "contradicts the checkpoint at 6" in output
    assert "kept-by-the-revisor.txt" in output


def test_the_offline_verifier_accepts_an_intact_trail_against_held_checkpoints(chain, tmp_path):
    chain(4)
    create_checkpoint()
    first = _keep(tmp_path, "first.txt")
    chain(3)
    create_checkpoint()
    second = _keep(tmp_path, "second.txt")
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    result = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(trail), "--against", str(first), str(second)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checkpoints held outside match" in result.stdout


def test_a_tail_cut_below_a_held_checkpoint_fails_naming_it(chain, tmp_path):
    from tests.audit.conftest import attacker

    chain(8)
    create_checkpoint()
    kept = _keep(tmp_path)
    with attacker():
        AuditEvent.objects.filter(sequence__gt=5).delete()
        from audit.models import AuditCheckpoint, AuditHead

        AuditCheckpoint.objects.all().delete()
        AuditHead.objects.filter(pk=1).update(
            sequence=5, hash=AuditEvent.objects.get(sequence=5).hash
        )
    assert verify_chain().ok
    status, output = _audit_verify(kept)
    assert status == 1
    assert "vouches for 8 entries" in output


def test_a_checkpoint_file_edited_by_hand_is_refused(chain, tmp_path):
    chain(3)
    create_checkpoint()
    kept = _keep(tmp_path)
    text = kept.read_text()
    head = parse_checkpoint_file(text).notes[0].splitlines()[3]
    kept.write_text(text.replace(head, "chain-head " + "0" * 64))
    with pytest.raises(NoteError, match="does not verify"):
        read_held_checkpoints(kept)


def test_the_auditors_file_names_the_key_and_its_fingerprint(chain, tmp_path, settings):
    from audit.signing import verifier_key

    chain(2)
    create_checkpoint()
    text = auditors_file()
    vkey = verifier_key()
    assert f"vkey {vkey.encode()}" in text
    assert f"fingerprint {vkey.fingerprint}" in text
    assert vkey.name == settings.AUDIT_LOG_ORIGIN


def test_a_rekeyed_log_is_visible_against_the_held_file(chain, tmp_path, settings):
    chain(3)
    create_checkpoint()
    kept = _keep(tmp_path)
    # The insider replaces the key pair and re-signs: the old file's key no longer matches.
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "new" / "key.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = tmp_path / "new" / "key.pub.pem"
    settings.GENERATE_MISSING_KEYS = True
    rewrite_history(2, {"amount": "1.00"})
    status, output = _audit_verify(kept)
    assert status == 1
    assert str(Problem.CONTRADICTS_HELD) in output
    assert "the log was re-keyed since" in output


# ---------------------------------------------------------------------------------------
# With a timestamp authority (a local `openssl ts`, no network)


@pytest.fixture
def stamped(settings, local_tsa, tmp_path):
    ca = tmp_path / "tsa-ca.pem"
    ca.write_bytes(local_tsa.ca_pem)
    settings.AUDIT_TSA_URL = local_tsa.url
    settings.AUDIT_TSA_CA_FILE = str(ca)
    return ca


def test_each_checkpoint_gets_a_timestamp_token_that_verifies(chain, stamped, tmp_path):
    from audit.checkpoints import make_checkpoint
    from audit.models import AuditTimestamp

    chain(3)
    checkpoint = make_checkpoint()
    token = AuditTimestamp.objects.get(checkpoint=checkpoint)
    assert abs((token.gen_time - checkpoint.created_at).total_seconds()) < 5
    assert f"timestamp {token.token}" in auditors_file()
    assert verify_chain().ok


def test_insider_rewrite_fails_against_a_held_checkpoint_and_its_timestamp_token(
    chain, stamped, tmp_path, capsys
):
    from audit.checkpoints import make_checkpoint

    chain(6)
    make_checkpoint()
    kept = _keep(tmp_path)
    (held,) = read_held_checkpoints(kept)[1]
    assert held.token is not None
    rewrite_history(3, {"amount": "15005.00"}, restamp=True)

    status, output = _audit_verify(kept)
    assert status == 1
    assert "contradicts the checkpoint at 6" in output

    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    capsys.readouterr()
    status = offline_verify([str(trail), "--against", str(kept), "--tsa-ca", str(stamped)])
    assert status == 1
    assert "contradicts the checkpoint at 6" in capsys.readouterr().out


def test_insider_rewrite_restamped_later_shows_as_backdated_without_any_held_file(
    chain, stamped, settings
):
    import time

    from audit.checkpoints import make_checkpoint

    settings.AUDIT_CLOCK_TOLERANCE_SECONDS = 1
    chain(4)
    make_checkpoint()
    assert verify_chain().ok
    time.sleep(2.5)  # the authority's clock moves on; the insider cannot turn it back
    rewrite_history(2, {"amount": "15005.00"}, restamp=True)

    outcome = verify_chain()
    assert outcome.broken is not None
    assert outcome.broken.problem == Problem.BAD_TIMESTAMP
    assert "back-dated" in outcome.broken.detail


def test_a_kept_token_swapped_for_another_checkpoints_fails_as_imprint_mismatch(
    chain, stamped, tmp_path, capsys
):
    from audit.checkpoints import make_checkpoint

    chain(2)
    make_checkpoint()
    chain(2)
    make_checkpoint()
    kept = _keep(tmp_path)
    lines = kept.read_text().splitlines(keepends=True)
    stamps = [i for i, line in enumerate(lines) if line.startswith("timestamp ")]
    lines[stamps[0]], lines[stamps[1]] = lines[stamps[1]], lines[stamps[0]]
    kept.write_text("".join(lines))
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    capsys.readouterr()
    status = offline_verify([str(trail), "--against", str(kept), "--tsa-ca", str(stamped)])
    output = capsys.readouterr().out
    assert status == 1
    assert "imprint mismatch" in output
