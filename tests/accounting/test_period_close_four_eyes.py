"""Closing a period with four eyes (issue #19, item 5): one treasurer proposes, a second
approves and closes; a voucher dated in a closed period is refused with a clear message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounting.ledger import Line, fiscal_year_for, post_voucher
from accounting.models import Period, PeriodCloseRequest
from accounting.period_closing import approve_period_close, propose_period_close
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from tests.fixtures import World

pytestmark = pytest.mark.django_db


def _period(month: str) -> Period:
    fiscal_year_for(dt.date.fromisoformat(f"{month}-01"))
    return Period.objects.get(start=dt.date.fromisoformat(f"{month}-01"))


def test_the_proposer_cannot_approve_closing_their_own_period(world: World) -> None:
    request = propose_period_close(_period("2025-01"), actor=world.treasurer)

    with pytest.raises(PermissionDenied, match="second treasurer"):
        approve_period_close(request, actor=world.treasurer)

    assert not Period.objects.get(start=dt.date(2025, 1, 1)).is_closed


def test_a_second_treasurer_closes_the_proposed_period_and_each_step_is_audited(
    world: World,
) -> None:
    request = propose_period_close(_period("2025-01"), actor=world.treasurer)
    period = approve_period_close(request, actor=world.treasurer2)

    assert period.is_closed and period.closed_by == world.treasurer2
    actions = list(
        AuditEvent.objects.filter(object_type="period", object_ref="2025-01")
        .order_by("sequence")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("ledger.period_close_proposed", world.treasurer.pk),
        ("ledger.period_closed", world.treasurer2.pk),
        ("ledger.period_close_approved", world.treasurer2.pk),
    ]


def test_a_voucher_dated_in_a_closed_period_is_refused_with_the_clear_message(
    world: World,
) -> None:
    request = propose_period_close(_period("2025-01"), actor=world.treasurer)
    approve_period_close(request, actor=world.treasurer2)

    with pytest.raises(ValidationFailed) as refused:
        post_voucher(
            series="A",
            text="Sen gåva",
            lines=[Line("1930", Decimal("10")), Line("3993", Decimal("-10"))],
            actor=world.treasurer,
            date=dt.date(2025, 1, 20),
        )

    assert refused.value.messages == [
        "The period 2025-01 is closed: no more vouchers can be booked in it; corrections "
        "are booked in an open period."
    ]


def test_a_period_is_proposed_only_after_the_earlier_ones_are_closed_or_proposed(
    world: World,
) -> None:
    with pytest.raises(ValidationFailed, match="2025-01 is still open"):
        propose_period_close(_period("2025-02"), actor=world.treasurer)

    propose_period_close(_period("2025-01"), actor=world.treasurer)
    propose_period_close(_period("2025-02"), actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="already proposed"):
        propose_period_close(_period("2025-02"), actor=world.treasurer2)


def test_only_a_treasurer_proposes_closing_a_period(world: World) -> None:
    with pytest.raises(PermissionDenied):
        propose_period_close(_period("2025-01"), actor=world.officer)


def test_the_database_refuses_an_approval_by_the_proposer(world: World) -> None:
    request = propose_period_close(_period("2025-01"), actor=world.treasurer)

    with pytest.raises(IntegrityError), transaction.atomic():
        PeriodCloseRequest.objects.filter(pk=request.pk).update(approved_by=world.treasurer)
