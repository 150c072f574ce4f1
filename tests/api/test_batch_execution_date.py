"""The API refuses a batch's execution date in the past (the service's rule)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounting.models import PaymentBatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(world):
    app = world.to_approved(world.new_application("1200"))
    return world.run(app, "schedule_payout", world.treasurer)


def test_the_api_refuses_a_batch_execution_date_in_the_past(world, as_role, scheduled):
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    response = as_role("treasurer").post(
        "/api/v1/payment-batches/",
        {"applications": [scheduled.reference], "execution_date": yesterday.isoformat()},
        format="json",
    )

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_failed"
    assert "past" in response.json()["detail"]
    assert not PaymentBatch.objects.exists()
