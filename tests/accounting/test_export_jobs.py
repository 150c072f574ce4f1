"""Accounting exports as background jobs: progress, idempotency, roles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError

from accounting.exports import ledger as ledger_module
from accounting.exports.files import partial_output, remove_abandoned_parts
from accounting.exports.jobs import export_path, start_export
from accounting.exports.services import export_ledger_file
from accounting.ledger import Line, post_voucher
from accounting.models import ExportJob, ExportStatus
from accounting.tasks import run_export
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def book_postings(treasurer: Any, vouchers: int = 3) -> None:
    """Balanced vouchers in 2026, one a day from 1 January (two postings each)."""
    for day in range(1, vouchers + 1):
        amount = Decimal(f"{100 * day}.00")
        post_voucher(
            series="A",
            text=f"Gåva {day}",
            lines=[Line("1930", amount), Line("3993", -amount)],
            actor=treasurer,
            date=dt.date(2026, 1, 1) + dt.timedelta(days=day - 1),
        )


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Path) -> None:
    settings.EXPORT_FILES_DIR = tmp_path / "exports"


@pytest.fixture
def treasurer() -> Any:
    user = UserFactory(roles=["treasurer"])
    book_postings(user)
    return user


def test_job_runs_to_done_and_writes_the_same_file_as_the_service(
    treasurer: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(ledger_module, "PROGRESS_EVERY", 2)
    with django_capture_on_commit_callbacks(execute=True):
        job = start_export(
            actor=treasurer, kind="ledger_csv", date_from="2026-01-01", date_to="2026-12-31"
        )
    job.refresh_from_db()

    assert job.status == ExportStatus.DONE
    assert job.rows_total == 6
    assert job.rows_done == job.rows_total
    assert job.percent == 100
    assert job.finished_at is not None
    assert job.error == ""
    direct = tmp_path / "direct.csv"
    export_ledger_file(
        direct,
        fmt="csv",
        date_from=dt.date(2026, 1, 1),
        date_to=dt.date(2026, 12, 31),
        actor=treasurer,
    )
    assert Path(job.file_path).read_bytes() == direct.read_bytes()
    assert AuditEvent.objects.filter(action="export.job_started").count() == 1


def test_a_second_run_does_nothing(treasurer: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = start_export(actor=treasurer, kind="ledger_jsonl")
    exports = AuditEvent.objects.filter(action="export.ledger").count()
    result = run_export.apply(args=[str(job.pk)]).get()

    assert result["skipped"] is True
    assert AuditEvent.objects.filter(action="export.ledger").count() == exports == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE


def test_a_refused_sie_export_fails_with_a_code(
    treasurer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = start_export(actor=treasurer, kind="sie4", year=2031)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == "refused"
    assert job.file_path == ""


def test_sie4i_job_runs(treasurer: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = start_export(actor=treasurer, kind="sie4i", year=2026)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert job.rows_done == job.rows_total == 6
    assert b"#SIETYP 4" in Path(job.file_path).read_bytes()


@pytest.mark.parametrize("roles", [["officer"], ["ombud"], ["auditor"], []])
def test_only_treasurers_and_administrators_start_exports(roles: list[str]) -> None:
    user = UserFactory(roles=roles)
    with pytest.raises(PermissionDenied):
        start_export(actor=user, kind="ledger_csv")
    assert not ExportJob.objects.exists()


def test_administrator_may_start(django_capture_on_commit_callbacks: Any) -> None:
    admin = UserFactory(roles=["administrator"])
    job = start_export(actor=admin, kind="ledger_csv")
    assert job.status == ExportStatus.QUEUED


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("nope", {}),
        ("ledger_csv", {"date_from": "2026-13-01"}),
        ("ledger_csv", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
        ("sie4", {}),
        ("sie4", {"year": "x"}),
    ],
)
def test_parameters_are_validated(treasurer: Any, kind: str, params: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        start_export(actor=treasurer, kind=kind, **params)
    assert not ExportJob.objects.exists()


def test_partial_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "ledger.csv"
    abandoned = tmp_path / ".ledger.csv.k1ll3d.part"  # its writer died: nobody holds it
    abandoned.write_bytes(b"half a file")
    with partial_output(target) as live:
        live.handle.write(b"rows")
        assert not abandoned.exists()  # swept when the new attempt began
        other = tmp_path / ".ledger.csv.0ther.part"
        other.write_bytes(b"another dead one")
        assert remove_abandoned_parts(target) == [other]
        assert live.part.exists()  # its writer holds it
    assert not live.part.exists()  # never published: removed
    assert not target.exists()


def test_a_delivery_finding_the_job_done_by_another_records_nothing(
    treasurer: Any, monkeypatch: Any
) -> None:
    job = start_export(actor=treasurer, kind="ledger_csv")
    write = ledger_module.write_ledger

    def meanwhile_done(*args: Any, **kwargs: Any) -> Any:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE)  # the other one
        return write(*args, **kwargs)

    monkeypatch.setattr(ledger_module, "write_ledger", meanwhile_done)
    result = run_export.apply(args=[str(job.pk)]).get()

    assert result["skipped"] is True
    assert not AuditEvent.objects.filter(action="export.ledger").exists()
    assert not export_path(job).exists()
    assert list(export_path(job).parent.iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_an_export_whose_commit_fails_after_the_rename_is_removed_again(tmp_path: Path) -> None:
    target = tmp_path / "ledger.csv"

    def claim() -> None:  # a row whose foreign key is checked only at COMMIT, and fails there
        ExportJob.objects.create(kind="ledger_csv", created_by_id=987654)

    with pytest.raises(IntegrityError):
        export_ledger_file(target, fmt="csv", claim=claim)

    assert list(tmp_path.iterdir()) == []  # neither the file nor its partial one
    assert not AuditEvent.objects.filter(action="export.ledger").exists()
    assert not ExportJob.objects.exists()
