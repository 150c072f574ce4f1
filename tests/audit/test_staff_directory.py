"""People in the trail (issue #15): a signed list of user ids to names for a period."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit.checkpoint_file import write_checkpoint_file
from audit.models import AuditEvent
from audit.note import CheckpointBody, NoteError
from audit.signing import verifier_key
from audit.staff_directory import StaffDirectory, main, staff_directory, verify_directory
from core.exceptions import ValidationFailed
from tests.fixtures import World

PROJECT = Path(__file__).resolve().parents[2]


def _today() -> date:
    return timezone.localdate()


def _offline_verify(path: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    """``python -m audit.staff_directory verify`` in a fresh interpreter, without Django."""
    return subprocess.run(  # nosec B603
        [sys.executable, "-m", "audit.staff_directory", "verify", str(path), "--vkey", vkey],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT)},
        check=False,
    )


def test_the_directory_lists_an_actor_of_the_period_with_name_and_roles(
    world: World, tmp_path: Path
) -> None:
    world.officer.first_name, world.officer.last_name = "Olle", "Öberg af Handläggare"
    world.officer.save()
    world.to_statutory_check(world.new_application("500"))
    signed = staff_directory(_today(), _today())
    directory = verify_directory(signed, verifier_key())
    officer = next(u for u in directory.users if u.user_id == world.officer.pk)
    assert officer.line() == (
        f"user {world.officer.pk} {world.officer.username} officer active Olle Öberg af Handläggare"
    )
    assert (directory.start, directory.end) == (_today(), _today())
    assert signed.splitlines()[0] == f"{settings.AUDIT_LOG_ORIGIN}/staff-directory"
    assert signed.splitlines()[1] == f"period {_today()} {_today()}"


def test_the_directory_verifies_offline_with_the_logs_verifier_key(
    world: World, tmp_path: Path
) -> None:
    world.to_statutory_check(world.new_application("500"))
    path = tmp_path / "staff.txt"
    call_command(
        "audit_staff_directory",
        "--from",
        str(_today() - timedelta(days=30)),
        "--to",
        str(_today()),
        "--output",
        str(path),
        stdout=StringIO(),
    )
    assert path.stat().st_mode & 0o077 == 0
    vkey = verifier_key()
    result = _offline_verify(path, vkey.encode())
    assert result.returncode == 0, result.stderr
    users = len(StaffDirectory.parse(path.read_text().rsplit("\n\n", 1)[0] + "\n").users)
    assert f"period {_today() - timedelta(days=30)} to {_today()}, {users} users" in result.stdout
    # The auditors' checkpoint file names the same key.
    held = tmp_path / "checkpoints.txt"
    held.write_text(write_checkpoint_file(vkey, []))
    assert main(["verify", str(path), "--vkey", str(held)]) == 0


def test_a_changed_byte_in_the_directory_fails_verification(world: World, tmp_path: Path) -> None:
    world.officer.first_name = "Olle"
    world.officer.save()
    signed = staff_directory(_today(), _today())
    tampered = tmp_path / "staff.txt"
    tampered.write_text(signed.replace("Olle", "Olla", 1), encoding="utf-8")
    result = _offline_verify(tampered, verifier_key().encode())
    assert result.returncode == 1
    assert "NOT VERIFIED" in result.stderr
    with pytest.raises(NoteError):
        verify_directory(tampered.read_text(), verifier_key())


def test_making_the_directory_is_an_audit_event_with_the_period(world: World) -> None:
    staff_directory(date(2026, 1, 1), date(2026, 12, 31), actor=world.auditor)
    event = AuditEvent.objects.filter(action="audit.staff_directory_exported").get()
    assert (event.actor_id, event.actor_role) == (world.auditor.pk, "auditor")
    assert event.payload["period_start"] == "2026-01-01"
    assert event.payload["period_end"] == "2026-12-31"


def test_the_directory_can_never_be_taken_for_a_checkpoint(world: World) -> None:
    text = staff_directory(_today(), _today()).rsplit("\n\n", 1)[0] + "\n"
    with pytest.raises(NoteError):
        CheckpointBody.parse(text)


def test_control_characters_in_a_name_are_stripped(world: World) -> None:
    world.decider.first_name = "Eva\u0007\nuser 1 root"
    world.decider.last_name = "Ek\u200e"
    world.decider.save()
    directory = verify_directory(staff_directory(_today(), _today()), verifier_key())
    decider = next(u for u in directory.users if u.user_id == world.decider.pk)
    assert decider.full_name == "Eva user 1 root Ek"
    assert sum(1 for u in directory.users if u.user_id == 1) <= 1


def test_an_actor_whose_account_is_gone_is_listed_as_deleted(world: World) -> None:
    from django.db import transaction

    from audit.services import record_event

    with transaction.atomic():
        record_event(action="application.submit", actor=type("Gone", (), {"pk": 987654})())
    directory = verify_directory(staff_directory(_today(), _today()), verifier_key())
    assert [u.line() for u in directory.users if u.user_id == 987654] == ["user 987654 - - deleted"]


def test_a_period_that_ends_before_it_starts_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed, match="ends before it starts"):
        staff_directory(date(2026, 2, 1), date(2026, 1, 1))


def test_the_offline_verifier_needs_no_django() -> None:
    code = (
        "import sys, audit.staff_directory; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    result = subprocess.run(  # nosec B603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
