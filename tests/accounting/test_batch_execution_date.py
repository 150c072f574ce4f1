"""A batch's requested execution date is today or later, as Stockholm counts days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounting.models import OrderStatus, PaymentBatch, PaymentOrder
from accounting.payouts import batches
from core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

#: 23:30 UTC on 1 December is already 00:30 on 2 December in Stockholm.
JUST_AFTER_MIDNIGHT_IN_STOCKHOLM = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def scheduled(world):
    app = world.to_approved(world.new_application("1200"))
    return world.run(app, "schedule_payout", world.treasurer)


@pytest.fixture
def stockholm_night(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: JUST_AFTER_MIDNIGHT_IN_STOCKHOLM)


def test_a_batch_execution_date_in_the_past_is_refused(world, scheduled, stockholm_night):
    yesterday_in_stockholm = dt.date(2026, 12, 1)  # still "today" in UTC

    with pytest.raises(ValidationFailed) as refused:
        batches.create_batch(actor=world.treasurer, execution_date=yesterday_in_stockholm)

    assert "2026-12-01" in str(refused.value)
    assert "past" in str(refused.value)
    assert not PaymentBatch.objects.exists()
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_a_batch_executes_today_or_later_in_stockholm(world, scheduled, stockholm_night):
    batch = batches.create_batch(actor=world.treasurer, execution_date=dt.date(2026, 12, 2))
    assert batch.execution_date == dt.date(2026, 12, 2)


def test_a_batch_without_a_date_executes_on_stockholms_today(world, scheduled, stockholm_night):
    assert batches.create_batch(actor=world.treasurer).execution_date == dt.date(2026, 12, 2)
