"""The treasurer's export job page: progress bar, polling, download link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounting.models import ExportJob, ExportStatus
from tests.fixtures import World
from tests.web.conftest import sign_in


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Path) -> None:
    settings.EXPORT_FILES_DIR = tmp_path / "exports"


def test_a_running_job_shows_progress_and_polls(world: World) -> None:
    job = ExportJob.objects.create(
        kind="ledger_csv",
        created_by=world.treasurer,
        status=ExportStatus.RUNNING,
        rows_done=2500,
        rows_total=10000,
    )
    client = sign_in(Client(), world.treasurer)
    html = client.get(reverse("web:export_job", args=[job.pk])).content.decode()
    assert '<progress max="100" value="25">' in html
    assert 'hx-trigger="every 1s"' in html
    assert reverse("web:export_job_progress", args=[job.pk]) in html
    assert reverse("web:export_job_file", args=[job.pk]) not in html
    assert "<script>" not in html and "style=" not in html

    fragment = client.get(reverse("web:export_job_progress", args=[job.pk])).content.decode()
    assert '<progress max="100" value="25">' in fragment
    assert "2500 of 10000 rows" in fragment or "2,500 of 10,000 rows" in fragment


def test_a_finished_job_stops_polling_and_offers_the_file(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = sign_in(Client(), world.treasurer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:exports"), {"kind": "ledger_jsonl", "year": 2026})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("web:export_job", args=[job.pk])
    fragment = client.get(reverse("web:export_job_progress", args=[job.pk])).content.decode()
    assert job.__class__.objects.get().status == ExportStatus.DONE
    assert "hx-trigger" not in fragment
    assert '<progress max="100" value="100">' in fragment
    assert reverse("web:export_job_file", args=[job.pk]) in fragment
    response = client.get(reverse("web:export_job_file", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_file_is_not_served_before_the_job_is_done(world: World) -> None:
    job = ExportJob.objects.create(kind="ledger_csv", created_by=world.treasurer)
    client = sign_in(Client(), world.treasurer)
    assert client.get(reverse("web:export_job_file", args=[job.pk])).status_code == 404


def test_officers_and_ombuds_are_refused(world: World, tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    target.write_text("x")
    job = ExportJob.objects.create(
        kind="ledger_csv", created_by=world.treasurer, status="done", file_path=str(target)
    )
    for user in (world.officer, world.ombud.user):
        client = sign_in(Client(), user)
        assert client.get(reverse("web:export_job_file", args=[job.pk])).status_code == 403
        assert (
            client.post(reverse("web:exports"), {"kind": "ledger_csv", "year": 2026}).status_code
            == 403
        )
    assert ExportJob.objects.count() == 1
