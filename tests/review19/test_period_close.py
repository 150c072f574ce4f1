"""Review of #19: a period is closed by two treasurers, whatever the path (item 5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounting import services as accounting
from accounting.ledger import fiscal_year_for
from accounting.models import Period, PeriodCloseRequest
from core.exceptions import WorkflowError
from tests.fixtures import World
from tests.web.conftest import sign_in


def _period(month: str) -> Period:
    fiscal_year_for(dt.date.fromisoformat(f"{month}-01"))
    return Period.objects.get(start=dt.date.fromisoformat(f"{month}-01"))


def step(client: Client, period: Period, name: str) -> None:
    client.post(reverse("web:period_close_step", args=[period.pk, name]))


def test_the_proposer_cannot_approve_in_a_second_session(world: World) -> None:
    period = _period("2025-01")
    first, second = sign_in(Client(), world.treasurer), sign_in(Client(), world.treasurer)
    step(first, period, "propose")
    step(second, period, "approve")
    step(first, period, "approve")
    period.refresh_from_db()
    assert not period.is_closed
    assert PeriodCloseRequest.objects.get(period=period).approved_at is None
    step(sign_in(Client(), world.treasurer2), period, "approve")
    period.refresh_from_db()
    assert period.is_closed and period.closed_by == world.treasurer2


def test_a_later_period_is_not_closed_before_an_only_proposed_earlier_one(world: World) -> None:
    january, february = _period("2025-01"), _period("2025-02")
    treasurer = sign_in(Client(), world.treasurer)
    step(treasurer, january, "propose")
    step(treasurer, february, "propose")
    step(sign_in(Client(), world.treasurer2), february, "approve")
    february.refresh_from_db()
    assert not february.is_closed


def test_no_service_closes_a_period_with_one_treasurer_alone(world: World) -> None:
    period = _period("2025-01")
    # The services offer closing only as a proposal and a second treasurer's approval.
    assert not hasattr(accounting, "close_period")
    proposal = accounting.propose_period_close(period, actor=world.treasurer)
    with pytest.raises(WorkflowError):
        accounting.approve_period_close(proposal, actor=world.treasurer)
    period.refresh_from_db()
    assert not period.is_closed
