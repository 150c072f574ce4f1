"""Review of #20: who reaches the payout endpoints. A pain.001 file holds account numbers and a
bank file moves money: treasurers only; batches, orders and file jobs: treasurers and auditors;
nobody else learns even that a batch exists."""

from __future__ import annotations

import pytest

from accounting.models import OrderStatus, PaymentBatch, PaymentOrder, PayoutFileJob
from tests.accounting.bank_files import camt054
from tests.review20.helpers import approved_batch, exported_batch, upload

pytestmark = pytest.mark.django_db

NOT_BATCH_READERS = ["officer", "decider", "ombud", "admin"]


@pytest.mark.parametrize("role", [*NOT_BATCH_READERS, "auditor"])
def test_only_a_treasurer_downloads_the_payout_file_with_its_account_numbers(world, as_role, role):
    _app, batch = exported_batch(world, "800")

    response = as_role(role).get(f"/api/v1/payment-batches/{batch.message_id}/file/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert b"5678" not in response.content  # the payee's bankgiro


@pytest.mark.parametrize("role", [*NOT_BATCH_READERS, "auditor"])
def test_only_a_treasurer_asks_for_a_payout_file(world, as_role, role):
    _app, batch = approved_batch(world, "800")

    response = as_role(role).post(f"/api/v1/payment-batches/{batch.message_id}/file/")

    assert response.status_code == 403
    assert not PayoutFileJob.objects.exists()


@pytest.mark.parametrize("role", NOT_BATCH_READERS)
def test_a_payout_file_job_and_its_error_message_are_not_shown_outside_the_treasury(
    world, as_role, role, django_capture_on_commit_callbacks
):
    _app, batch = approved_batch(world, "800")
    with django_capture_on_commit_callbacks(execute=False):
        job = as_role("treasurer").post(f"/api/v1/payment-batches/{batch.message_id}/file/")

    response = as_role(role).get(f"/api/v1/payout-file-jobs/{job.json()['job']}/")

    assert response.status_code == 403
    assert "error_message" not in response.json()


@pytest.mark.parametrize("role", NOT_BATCH_READERS)
def test_a_batchs_orders_are_not_listed_outside_the_treasury(world, as_role, role):
    _app, batch = exported_batch(world, "800")

    response = as_role(role).get(f"/api/v1/payment-batches/{batch.message_id}/orders/")

    assert response.status_code == 403


@pytest.mark.parametrize("role", NOT_BATCH_READERS)
def test_a_batch_that_does_not_exist_answers_the_same_403_as_one_that_does(world, as_role, role):
    """No oracle: the refusal comes before the lookup."""
    _app, batch = exported_batch(world, "800")
    client = as_role(role)

    real = client.get(f"/api/v1/payment-batches/{batch.message_id}/orders/")
    made_up = client.get("/api/v1/payment-batches/NO-SUCH-BATCH/orders/")

    assert real.status_code == made_up.status_code == 403
    assert real.json() == made_up.json()


@pytest.mark.parametrize("role", [*NOT_BATCH_READERS, "auditor"])
@pytest.mark.parametrize("action", ["sent", "cancel", "void", "approve"])
def test_only_a_treasurer_moves_a_batch(world, as_role, role, action):
    _app, batch = exported_batch(world, "800")

    response = as_role(role).post(f"/api/v1/payment-batches/{batch.message_id}/{action}/")

    assert response.status_code == 403
    assert PaymentBatch.objects.get().status == batch.status


@pytest.mark.parametrize("role", [*NOT_BATCH_READERS, "auditor"])
def test_only_a_treasurer_uploads_a_bank_file_and_nothing_is_booked_otherwise(world, as_role, role):
    _app, batch = exported_batch(world, "800")
    (order,) = PaymentOrder.objects.filter(batch=batch)

    response = upload(as_role(role), camt054([(order, "2026-11-24", "")]))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_an_anonymous_bank_file_upload_is_refused_before_the_body_is_read(world, client):
    _app, batch = exported_batch(world, "800")
    (order,) = PaymentOrder.objects.filter(batch=batch)

    response = upload(client, camt054([(order, "2026-11-24", "")]))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_another_ombuds_case_follow_up_is_not_found_not_forbidden(world, as_role, client_for):
    from tests.factories import OmbudFactory

    app = world.to_paid(world.new_application("800"))
    stranger = client_for(OmbudFactory().user)

    other = stranger.post(
        f"/api/v1/applications/{app.reference}/follow-up/",
        {"outcome": "used_as_intended"},
        format="json",
    )
    missing = stranger.post(
        "/api/v1/applications/A-2026-999999/follow-up/",
        {"outcome": "used_as_intended"},
        format="json",
    )

    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
