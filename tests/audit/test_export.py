"""Exported trails and the offline verifier (standard library + cryptography, no Django)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.canonical import event_hash
from audit.services import create_checkpoint
from audit.verify import main as offline_verify
from tests.audit.conftest import append


def _export(tmp_path: Path, **options: str) -> Path:
    path = tmp_path / "trail.jsonl"
    call_command("audit_export", output=path, **options)
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = offline_verify([str(path), "--public-key", str(settings.AUDIT_PUBLIC_KEY_FILE)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_full_export_holds_header_checkpoints_and_every_event(chain, tmp_path):
    chain(6)
    create_checkpoint()
    records = _lines(_export(tmp_path))
    assert records[0]["type"] == "trail"
    assert records[0]["scope"] == "full"
    assert [r["type"] for r in records[1:]] == ["checkpoint"] + ["event"] * 6
    assert [r["sequence"] for r in records[2:]] == [1, 2, 3, 4, 5, 6]
    event = records[2]
    fields = {k: v for k, v in event.items() if k not in ("type", "hash")}
    assert event_hash(fields) == event["hash"]


def test_the_offline_verifier_accepts_an_intact_trail(chain, tmp_path, capsys):
    chain(6)
    create_checkpoint()
    status, output = _verify(_export(tmp_path), capsys)
    assert status == 0, output
    assert "intact: 6 entries" in output
    assert "1 signed checkpoints verified" in output


def test_the_offline_verifier_runs_without_django(chain, tmp_path):
    chain(3)
    create_checkpoint()
    trail = _export(tmp_path)
    probe = (
        "import sys; from audit.verify import main; rc = main(sys.argv[1:]); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'; "
        "sys.exit(rc)"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(settings.BASE_DIR)}
    args = [str(trail), "--public-key", str(settings.AUDIT_PUBLIC_KEY_FILE)]
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    as_module = subprocess.run(
        [sys.executable, "-m", "audit.verify", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert as_module.returncode == 0, as_module.stderr
    assert "intact: 3 entries" in as_module.stdout


def test_the_offline_verifier_names_a_changed_entry(chain, tmp_path, capsys):
    chain(8)
    create_checkpoint()
    trail = _export(tmp_path)
    records = _lines(trail)
    events = [r for r in records if r["type"] == "event"]
    events[4]["payload"]["amount"] = "99999.00"
    _write(trail, records)
    status, output = _verify(trail, capsys)
    assert status == 1
    assert "sequence 5: modified" in output


def test_the_offline_verifier_names_a_removed_and_a_swapped_entry(chain, tmp_path, capsys):
    chain(8)
    create_checkpoint()
    trail = _export(tmp_path)
    records = _lines(trail)
    without_third = [r for r in records if r.get("sequence") != 3 or r["type"] != "event"]
    _write(trail, without_third)
    assert "sequence 3: missing (deleted)" in _verify(trail, capsys)[1]
    swapped = list(records)
    swapped[5], swapped[6] = swapped[6], swapped[5]  # events 4 and 5 (after header, cp)
    swapped[5]["sequence"], swapped[6]["sequence"] = 4, 5
    _write(trail, swapped)
    status, output = _verify(trail, capsys)
    assert status == 1
    assert "sequence 4: reordered" in output


def test_the_offline_verifier_finds_a_cut_tail_and_a_forged_checkpoint(chain, tmp_path, capsys):
    chain(8)
    create_checkpoint()
    trail = _export(tmp_path)
    records = _lines(trail)
    _write(trail, records[:-3])
    status, output = _verify(trail, capsys)
    assert status == 1
    assert "sequence 6: truncated" in output
    records[1]["signature"] = records[1]["signature"][::-1]
    _write(trail, records)
    status, output = _verify(trail, capsys)
    assert status == 1
    assert "sequence 8: bad checkpoint signature" in output


def test_unreadable_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    key = tmp_path / "key.pem"
    key.write_text("nope")
    assert offline_verify([str(bad), "--public-key", str(key)]) == 2


def test_an_application_trail_holds_only_that_case(world, tmp_path, capsys):
    app = world.to_paid(world.new_application("1500"))
    other = world.new_application("700")
    create_checkpoint()
    trail = _export(tmp_path, application=app.reference)
    records = _lines(trail)
    assert records[0]["scope"] == "application"
    assert "does not prove on its own that no entry" in records[0]["statement"]
    events = [r for r in records if r["type"] == "event"]
    refs = {r["object_ref"] for r in events}
    assert refs == {app.reference, app.beneficiary.reference}
    assert other.reference not in trail.read_text()
    status, output = _verify(trail, capsys)
    assert status == 0, output
    assert f"partial trail intact: {len(events)} entries" in output
    events[2]["payload"]["to"] = "approved"
    _write(trail, records)
    status, output = _verify(trail, capsys)
    assert status == 1
    assert f"sequence {events[2]['sequence']}: modified" in output


def test_exporting_an_unknown_application_fails(db, tmp_path):
    with pytest.raises(CommandError, match="no application A-2026-999999"):
        call_command("audit_export", output=tmp_path / "x.jsonl", application="A-2026-999999")
    assert not (tmp_path / "x.jsonl").exists()


def test_a_partial_trail_links_adjacent_entries(chain, tmp_path, capsys):
    chain(3)
    append(2, ref="A-2026-000002")
    trail = tmp_path / "partial.jsonl"
    from audit.exports import export_trail

    with trail.open("w") as handle:
        export_trail(handle)
    records = _lines(trail)
    records[0]["scope"] = "application"
    records[3]["prev_hash"] = "f" * 64
    records[3]["hash"] = event_hash(
        {k: v for k, v in records[3].items() if k not in ("type", "hash")}
    )
    _write(trail, records)
    status, output = _verify(trail, capsys)
    assert status == 1
    assert "sequence 3: modified: it does not link" in output
