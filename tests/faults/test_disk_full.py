"""Fill the disk under an export job: it fails cleanly, and succeeds once there is space.

The export directory is a real small file system (see ``tests/faults/disk.py``), filled
until the export no longer fits. The job must end ``failed`` with a message for people (no
traceback, no personal data), leave no partial or truncated file that could pass for the
export, offer no download, record no ``export.ledger`` event, and lose nothing exported
before; after space is freed, a new export succeeds exactly once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounting.exports.files import sha256_of
from accounting.exports.jobs import start_export
from accounting.models import ExportError, ExportJob, ExportStatus
from accounting.tasks import run_export
from tests.accounting.test_export_jobs import book_postings
from tests.api.conftest import _fresh_throttle_counts, client_for
from tests.faults.disk import tiny_disk
from tests.faults.support import consistent, events
from tests.signin import sign_in

__all__ = ["_fresh_throttle_counts", "client_for", "tiny_disk"]  # fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("fault")]


def _export(actor: Any, capture: Any) -> ExportJob:
    """Start a ledger export and let the (eager) worker run it."""
    with capture(execute=True):
        job = start_export(actor=actor, kind="ledger_csv")
    job.refresh_from_db()
    return job


def test_an_export_onto_a_full_disk_fails_cleanly_and_a_rerun_succeeds_once(
    world: Any,
    tiny_disk: Any,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    client_for: Any,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    evidence: Any,
) -> None:
    """Fill the disk while an export job writes its file"""
    settings.EXPORT_FILES_DIR = tiny_disk.path
    book_postings(world.treasurer, 80)
    earlier = _export(world.treasurer, django_capture_on_commit_callbacks)
    size = Path(earlier.file_path).stat().st_size
    digest = sha256_of(earlier.file_path)
    assert earlier.status == ExportStatus.DONE
    disk = tiny_disk.fill(leave=size // 2)

    with caplog.at_level(logging.INFO, logger="fundflow.accounting"):
        job = _export(world.treasurer, django_capture_on_commit_callbacks)

    assert job.status == ExportStatus.FAILED
    assert job.error == ExportError.NO_SPACE
    assert job.file_path == ""
    assert tiny_disk.files() == [Path(earlier.file_path).name]  # no partial file left
    assert sha256_of(earlier.file_path) == digest  # the earlier export is untouched
    left = tiny_disk.files()
    exported_before = events("export.ledger")
    assert exported_before == 1  # the earlier one only
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.exc_info for r in failures] == [None]  # one line, no traceback
    logged = failures[0].getMessage()
    assert "Testa" not in logged and str(job.pk) in logged
    with translation.override("sv"):
        swedish = job.error_message
    assert "diskutrymme" in swedish
    api = client_for(world.treasurer)
    detail = api.get(reverse("api:export", args=[job.pk])).json()
    assert detail["file_ready"] is False and detail["error_message"] == job.error_message
    page = sign_in(client, world.treasurer).get(reverse("web:export_job_progress", args=[job.pk]))
    assert job.error_message in page.content.decode()
    assert reverse("web:export_job_file", args=[job.pk]) not in page.content.decode()
    downloads = [
        api.get(reverse("api:export-file", args=[job.pk])).status_code,
        client.get(reverse("web:export_job_file", args=[job.pk])).status_code,
    ]
    assert downloads == [404, 404]
    again = run_export.apply(args=[str(job.pk)], retries=1).get()  # a retried message
    assert again["skipped"] is True

    tiny_disk.clear()
    rerun = _export(world.treasurer, django_capture_on_commit_callbacks)
    assert rerun.status == ExportStatus.DONE
    assert events("export.ledger") == 2  # the earlier one and the rerun, once each
    assert sorted(tiny_disk.files()) == sorted(Path(j.file_path).name for j in (earlier, rerun))
    assert sha256_of(rerun.file_path) == digest  # the same books, the same bytes

    evidence.row(
        tried=f"ledger CSV export ({size} bytes) into {disk}",
        outcome=(
            f"job {job.status}, error '{job.error}': “{job.error_message}” / sv “{swedish}”; "
            f"log: {logged!r} (no traceback); files on the disk {left} "
            f"(earlier export only, sha256 unchanged); export.ledger events: {exported_before}; "
            f"API file_ready={detail['file_ready']}; download API/page {downloads}, no link on "
            f"the page; retried message skipped={again['skipped']}"
        ),
    )
    evidence.row(
        tried="free the space, start the export again",
        outcome=(
            f"new job {rerun.status}, one file of {Path(rerun.file_path).stat().st_size} bytes "
            f"with the same sha256 as the earlier export; export.ledger events: "
            f"{events('export.ledger')} (earlier + rerun); {consistent()}"
        ),
    )
