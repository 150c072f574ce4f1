"""Payment batches through the API: a treasurer creates, a second approves, a worker files."""

from __future__ import annotations

import hashlib

import pytest

from accounting.models import PaymentBatch
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(world):
    app = world.to_approved(world.new_application("1200"))
    return world.run(app, "schedule_payout", world.treasurer)


def test_create_approve_and_generate_the_file(
    world, as_role, scheduled, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PAYOUT_FILES_DIR = tmp_path
    creator, approver = as_role("treasurer"), as_role("treasurer2")

    created = creator.post(
        "/api/v1/payment-batches/", {"applications": [scheduled.reference]}, format="json"
    )
    assert created.status_code == 201, created.json()
    batch = created.json()
    assert batch["status"] == "draft"
    assert batch["total"] == {"amount": "1200.00", "currency": "SEK"}
    assert batch["order_count"] == 1
    orders = creator.get(f"/api/v1/payment-batches/{batch['message_id']}/orders/").json()
    assert orders["results"][0]["application"] == scheduled.reference
    assert orders["results"][0]["payee"].startswith("P-")
    message_id = batch["message_id"]

    refused = creator.post(f"/api/v1/payment-batches/{message_id}/approve/")
    approved = approver.post(f"/api/v1/payment-batches/{message_id}/approve/")
    assert refused.status_code == 403
    assert approved.json()["status"] == "approved"

    with django_capture_on_commit_callbacks(execute=True):
        job = creator.post(f"/api/v1/payment-batches/{message_id}/file/")
    assert job.status_code == 202
    assert job.json()["message_id"] == message_id
    content = (tmp_path / f"{message_id}.xml").read_bytes()
    assert b"pain.001.001.03" in content
    assert PaymentBatch.objects.get().file_sha256 == hashlib.sha256(content).hexdigest()

    listed = approver.get("/api/v1/payment-batches/").json()
    assert [b["message_id"] for b in listed["results"]] == [message_id]
    assert approver.get(f"/api/v1/payment-batches/{message_id}/").json()["exported_at"]


def test_generating_the_file_twice_exports_once(world, scheduled, settings, tmp_path):
    from accounting.payouts import batches
    from accounting.tasks import generate_payout_file

    settings.PAYOUT_FILES_DIR = tmp_path
    batch = batches.create_batch(actor=world.treasurer, applications=[scheduled])
    batches.approve_batch(batch, actor=world.treasurer2)

    first = generate_payout_file.delay(batch.message_id, world.treasurer.pk).get()
    second = generate_payout_file.delay(batch.message_id, world.treasurer.pk).get()

    assert first == second
    assert len(list(tmp_path.iterdir())) == 1
    assert AuditEvent.objects.filter(action="payout.batch_exported").count() == 1


def test_unknown_application_in_a_new_batch_is_a_field_error(world, as_role, scheduled):
    response = as_role("treasurer").post(
        "/api/v1/payment-batches/", {"applications": ["A-1999-000001"]}, format="json"
    )

    assert response.status_code == 400
    assert "applications" in response.json()["fields"]
