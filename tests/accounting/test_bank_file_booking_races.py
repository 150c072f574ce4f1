"""Review of issue #17 on PostgreSQL with real commits: booking a bank file while a single
voucher of the same series is posted (docs/architecture.md "Lock order": voucher counter
before the audit chain's head, the head always last)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from accounting import chart, ledger
from accounting.bank_status import import_camt054
from accounting.ledger import Line
from accounting.models import OrderStatus, PaymentOrder, Voucher, VoucherSeries
from audit.verification import verify_chain
from bench.bench_payout import batch_and_export, camt054_paying

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_booking_a_bank_file_takes_the_audit_head_last_and_never_deadlocks_with_a_voucher(
    monkeypatch,  # type: ignore[no-untyped-def]
    ledger_purge: None,
) -> None:
    """A treasurer posts a single payout-series voucher (it holds the counter, then appends
    its event) while the bank's camt.054 for an exported batch is imported (it marks the batch
    sent, appending an event, then numbers its vouchers). With the written lock order both
    finish; today PostgreSQL kills one of them as a deadlock."""
    done = batch_and_export(5)
    content = camt054_paying(done.order_ids)
    fund = PaymentOrder.objects.get(pk=done.order_ids[0]).fund
    suspense, bank = chart.account("bank_suspense"), chart.account("bank")
    with transaction.atomic():
        ledger.fund_object(fund)  # the fund's object exists, as for any fund booked before
    counter_held = threading.Event()
    real_next_number = ledger._next_number

    def slow_next_number(year: Any, series: str, count: int = 1) -> int:
        first = real_next_number(year, series, count)
        if threading.current_thread().name == "single-voucher":
            counter_held.set()
            time.sleep(2)  # the import marks the batch sent, then waits for the counter
        return first

    monkeypatch.setattr(ledger, "_next_number", slow_next_number)
    errors: list[BaseException] = []

    def single_voucher() -> None:
        try:
            ledger.post_voucher(
                series=VoucherSeries.PAYOUT,
                text="Review17 single",
                lines=[Line(suspense, Decimal("1.00"), fund=fund), Line(bank, Decimal("-1.00"))],
                actor=done.treasurer,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=single_voucher, name="single-voucher")
    thread.start()
    assert counter_held.wait(30)
    try:
        report = import_camt054(content, actor=done.treasurer)
    except BaseException as exc:
        errors.append(exc)
        report = None
    thread.join(60)

    assert not errors, errors
    assert report is not None and report.paid == 5
    assert PaymentOrder.objects.filter(status=OrderStatus.PAID).count() == 5
    numbers = list(
        Voucher.objects.filter(series=VoucherSeries.PAYOUT)
        .order_by("number")
        .values_list("number", flat=True)
    )
    assert numbers == list(range(1, 7))
    assert verify_chain().ok
