"""Appending many events at once builds exactly the chain appending them one by one would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from audit import services
from audit.canonical import HASHED_FIELDS
from audit.models import AuditEvent
from audit.services import AuditPayloadError, NewEvent, record_event, record_events
from audit.verification import verify_chain

pytestmark = pytest.mark.django_db

FIELDS = (*HASHED_FIELDS, "hash")


def _events(world) -> list[NewEvent]:  # type: ignore[no-untyped-def]
    return [
        NewEvent(
            action="payout.order_paid",
            actor=world.treasurer if n % 3 else None,
            role="treasurer" if n % 3 else "",
            object_type="payment_order",
            object_ref=f"PO-{n}",
            payload={"order": n, "amount": Decimal(n) + Decimal("0.50"), "codes": ["a", n]},
        )
        for n in range(1, 8)
    ]


class _Undo(Exception):
    pass


def _rows(after: int) -> list[tuple[object, ...]]:
    return list(
        AuditEvent.objects.filter(sequence__gt=after).order_by("sequence").values_list(*FIELDS)
    )


def test_events_appended_at_once_chain_exactly_as_one_by_one(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    start = services.timezone.now()
    moments = [start + dt.timedelta(milliseconds=n) for n in range(1, 8)]
    with transaction.atomic():
        record_event(
            action="ledger.fiscal_year_opened", object_type="fiscal_year", object_ref="2026"
        )
    before = (
        AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    )

    one_by_one: list[tuple[object, ...]] = []
    try:
        with transaction.atomic():
            clock = iter(moments)
            monkeypatch.setattr(services.timezone, "now", lambda: next(clock))
            for event in _events(world):
                record_event(
                    action=event.action,
                    actor=event.actor,
                    role=event.role,
                    object_type=event.object_type,
                    object_ref=event.object_ref,
                    payload=event.payload,
                )
            one_by_one = _rows(before)
            raise _Undo
    except _Undo:
        pass
    assert _rows(before) == []

    with transaction.atomic():
        clock = iter(moments)
        monkeypatch.setattr(services.timezone, "now", lambda: next(clock))
        appended = record_events(_events(world))
    monkeypatch.undo()

    assert len(one_by_one) == 7
    assert _rows(before) == one_by_one
    assert [e.hash for e in appended] == [row[-1] for row in one_by_one]
    assert [e.pk for e in appended] == list(
        AuditEvent.objects.filter(sequence__gt=before)
        .order_by("sequence")
        .values_list("pk", flat=True)
    )
    assert verify_chain().ok


def test_a_refused_event_appends_none_of_the_batch(world) -> None:  # type: ignore[no-untyped-def]
    count = AuditEvent.objects.count()
    events = [*_events(world), NewEvent(action="payout.order_paid", payload={"note": "Anna"})]
    with pytest.raises(AuditPayloadError), transaction.atomic():
        record_events(events)
    assert AuditEvent.objects.count() == count
