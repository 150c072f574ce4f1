"""Review of issue #15 (the insider's view): ways to make verification say "intact" wrongly."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command

from audit.checkpoints import auditors_file, create_checkpoint
from audit.verify import main as offline_verify
from tests.audit.insider import rewrite_history


def _keep(tmp_path: Path) -> Path:
    path = tmp_path / "kept-by-the-revisor.txt"
    path.write_text(auditors_file(), encoding="utf-8")
    return path


def test_a_trail_relabelled_partial_cannot_pass_the_checkpoints_an_auditor_kept(
    chain, tmp_path, capsys
):
    """The trail comes from the server: its header's scope is the insider's to set."""
    chain(6)
    create_checkpoint()
    kept = _keep(tmp_path)
    rewrite_history(2, {"amount": "99999.00"})
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    records = [json.loads(line) for line in trail.read_text().splitlines()]
    records[0]["scope"] = "application"  # and leave out the entry the kept checkpoint names
    records = [r for r in records if not (r["type"] == "event" and r["sequence"] == 6)]
    trail.write_text("".join(json.dumps(r) + "\n" for r in records))
    capsys.readouterr()

    status = offline_verify([str(trail), "--against", str(kept)])
    output = capsys.readouterr()

    assert status == 2, output.out
    assert "intact" not in output.out
    assert "partial trail: it holds no entry at 6" in output.err


def test_audit_verify_refuses_an_unreadable_kept_file_with_exit_2(chain, tmp_path):
    from django.core.management.base import CommandError

    chain(3)
    create_checkpoint()
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"fundflow-audit-checkpoints/v1\nvkey \xff\xfe\n\n")

    try:
        call_command("audit_verify", "--against", str(kept))
    except CommandError as exc:
        assert exc.returncode == 2
    else:
        raise AssertionError("an unreadable kept file was accepted")


def test_a_kept_file_holding_the_rewritten_note_beside_the_true_one_still_fails(
    chain, tmp_path, capsys
):
    """Held: two notes of the same size — the true one and the insider's — both must hold."""
    chain(6)
    create_checkpoint()
    before = tmp_path / "before.txt"
    before.write_text(auditors_file(), encoding="utf-8")
    rewrite_history(2, {"amount": "99999.00"})
    after = tmp_path / "after.txt"
    after.write_text(auditors_file(), encoding="utf-8")
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    capsys.readouterr()

    status = offline_verify([str(trail), "--against", str(after), str(before)])

    assert status == 1
    assert "before.txt" in capsys.readouterr().out


def test_a_note_by_an_unknown_key_name_in_a_kept_file_is_refused_not_ignored(
    chain, tmp_path, capsys
):
    chain(3)
    create_checkpoint()
    kept = _keep(tmp_path)
    text = kept.read_text()
    origin = text.split("vkey ", 1)[1].split("+", 1)[0]
    kept.write_text(text.replace(f"\u2014 {origin} ", "\u2014 someone.else/audit "))
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)

    assert offline_verify([str(trail), "--against", str(kept)]) == 2
