"""Appending: inside the change's transaction, no personal values, never forking."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from audit.canonical import GENESIS_HASH, event_hash
from audit.models import AuditEvent, AuditHead
from audit.services import (
    AuditOutsideTransaction,
    AuditPayloadError,
    record_event,
)
from audit.verification import verify_chain


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_refused():
    before = AuditEvent.objects.count()
    with pytest.raises(AuditOutsideTransaction):
        record_event(action="x")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Anna"},
        {"items": [{"personnummer": "x"}]},
        {"note": "free text"},
        {"ref": "19811218-9876"},
        {"nested": {"values": ["811218-9876"]}},
    ],
)
def test_payloads_that_could_carry_personal_values_are_refused(chain, payload):
    with pytest.raises(AuditPayloadError), transaction.atomic():
        record_event(action="x", payload=payload)
    assert not AuditEvent.objects.exists()


def test_large_amounts_are_numbers_not_identity_numbers(chain):
    with transaction.atomic():
        event = record_event(action="x", payload={"postings": [{"amount": Decimal("1000000000")}]})
    assert event.payload == {"postings": [{"amount": "1000000000"}]}
    with pytest.raises(AuditPayloadError), transaction.atomic():
        record_event(action="x", payload={"reference": "198112189876"})


def test_events_chain_from_genesis_with_consecutive_sequences(chain):
    events = chain(3)
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    for event in AuditEvent.objects.all():
        assert event.hash == event_hash(event.hashed_fields())
    head = AuditHead.objects.get()
    assert (head.sequence, head.hash) == (3, events[2].hash)


def test_decimals_are_stored_as_strings(chain):
    chain(1)
    assert AuditEvent.objects.get().payload["amount"] == "1500.50"


def test_an_event_rolls_back_with_its_change(chain):
    chain(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(action="x", payload={"amount": Decimal("1")})
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == 2
    assert chain(1)[0].sequence == 3


WRITERS = 8
EVENTS_EACH = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    """Eight threads, each in its own transactions, append at once: one chain, no gaps."""
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    # Restoring the roles at test setup may already have logged permission changes.
    existing = AuditEvent.objects.count()

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(EVENTS_EACH):
                with transaction.atomic():
                    record_event(action="test.concurrent", object_ref=f"W{n}", payload={"k": k})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    total = existing + WRITERS * EVENTS_EACH
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total
    outcome = verify_chain()
    assert outcome.ok, outcome.line()
    assert outcome.entries == total


@pytest.mark.parametrize("microsecond", [0, 5, 120000, 999999])
def test_timestamps_read_back_from_the_database_hash_alike(chain, monkeypatch, microsecond):
    from datetime import UTC, datetime

    from django.utils import timezone

    moment = datetime(2026, 3, 1, 12, 0, 0, microsecond, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    chain(2)
    outcome = verify_chain()
    assert outcome.ok, outcome.line()
