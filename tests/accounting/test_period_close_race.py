"""Issue #13, suspected: a voucher posted into a period that is being closed at the same moment.

PostgreSQL, read committed. The closer has marked the period closed but not yet committed (it is
held right before its audit append by a second session holding the audit lock); a voucher for a
date in that period is then posted. It must not commit into the closed period: it waits for the
closer and is refused with the closed period's message.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from accounting import ledger
from accounting.models import Period, Voucher
from core.exceptions import ValidationFailed
from tests.audit_lock import AuditLock, audit_lock  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.evidence("ledger"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DAY = dt.date(2020, 1, 15)

_LOCK_WAITERS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


def _in_thread(work: Callable[[], Any], outcome: dict[str, Any], key: str) -> threading.Thread:
    def run() -> None:
        try:
            with translation.override("en"):
                outcome[key] = work()
        except BaseException as exc:
            outcome[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_a_voucher_cannot_land_in_a_period_closed_at_the_same_moment(world, audit_lock):  # noqa: F811
    lock: AuditLock = audit_lock
    ledger.fiscal_year_for(DAY)
    period = Period.objects.get(start=DAY.replace(day=1))
    outcome: dict[str, Any] = {}

    lock.hold()
    closer = _in_thread(
        lambda: ledger.close_period(period, actor=world.treasurer), outcome, "close"
    )
    _wait_until(lambda: len(lock.waiting()) == 1, "the closer holds the period, uncommitted")
    poster = _in_thread(
        lambda: ledger.record_income(
            world.fund, "500", kind="donation", actor=world.treasurer, reference="RACE-1", date=DAY
        ),
        outcome,
        "post",
    )

    def both_waiting() -> bool:
        row = lock.session.execute(_LOCK_WAITERS).fetchone()
        return bool(row and row[0] == 2)

    _wait_until(both_waiting, "the voucher waits too (for the period or the audit lock)")
    lock.release()
    closer.join(30)
    poster.join(30)

    assert isinstance(outcome["close"], Period) and outcome["close"].is_closed
    assert not Voucher.objects.filter(date=DAY).exists(), "a voucher landed in a closed period"
    assert isinstance(outcome["post"], ValidationFailed)
    assert "is closed" in str(outcome["post"])
