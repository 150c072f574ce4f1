"""Accounting exports through the API: 202 with the job, progress, then the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from accounting.models import ExportJob
from api.services import issue_token
from tests.accounting.test_export_jobs import book_postings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Path) -> None:
    settings.EXPORT_FILES_DIR = tmp_path / "exports"


def _client(user: Any) -> APIClient:
    client = APIClient()
    _token, plain = issue_token(user, label="exports")
    client.credentials(HTTP_AUTHORIZATION=f"Token {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_export_flow_202_then_done_then_file(django_capture_on_commit_callbacks: Any) -> None:
    treasurer = UserFactory(roles=["treasurer"])
    book_postings(treasurer)
    client = _client(treasurer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports/",
            {"kind": "ledger_jsonl", "date_from": "2026-01-01", "date_to": "2026-12-31"},
            format="json",
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["params"] == {"from": "2026-01-01", "to": "2026-12-31"}

    detail = client.get(f"/api/v1/exports/{body['id']}/").json()
    assert detail["status"] == "done"
    assert detail["rows_done"] == detail["rows_total"] == 6
    assert detail["percent"] == 100
    assert detail["file_ready"] is True

    response = client.get(f"/api/v1/exports/{body['id']}/file/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content)
    assert content == Path(ExportJob.objects.get().file_path).read_bytes()
    assert len(content.splitlines()) == 6


def test_a_file_of_an_unfinished_job_is_404() -> None:
    treasurer = UserFactory(roles=["treasurer"])
    job = ExportJob(kind="ledger_csv")
    job.created_by = cast(User, treasurer)
    job.save()
    assert _client(treasurer).get(f"/api/v1/exports/{job.pk}/file/").status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"kind": "nope"}, {"kind": "sie4"}, {"kind": "ledger_csv", "date_from": "2026-02-30"}],
)
def test_bad_parameters_are_400(body: dict[str, Any]) -> None:
    treasurer = UserFactory(roles=["treasurer"])
    response = _client(treasurer).post("/api/v1/exports/", body, format="json")
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("roles", [["officer"], ["ombud"]])
def test_officers_and_ombuds_are_refused(roles: list[str]) -> None:
    user = UserFactory(roles=roles)
    response = _client(user).post("/api/v1/exports/", {"kind": "ledger_csv"}, format="json")
    assert response.status_code == 403
    assert not ExportJob.objects.exists()
