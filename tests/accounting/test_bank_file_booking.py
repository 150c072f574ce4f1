"""Booking a bank file's payments: a cost per payment that does not grow with the file, and
nothing booked from a file that fails its checks (however large)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting import bank_status
from accounting.bank_status import import_camt054
from accounting.models import OrderStatus, PaymentOrder, Voucher
from audit.models import AuditEvent
from audit.verification import verify_chain
from bench.bench_payout import batch_and_export, camt054_paying
from core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

#: Statements per payment when a camt.054 is booked: the case's own step through the workflow
#: (``transition``: lock, permission and segregation checks, save, its audit event) and nothing
#: that grows with the file. Before batching it was 39-42.
STATEMENTS_PER_PAYMENT = 14


def _statements_to_book(count: int) -> int:
    done = batch_and_export(count)
    content = camt054_paying(done.order_ids)
    with CaptureQueriesContext(connection) as queries:
        report = import_camt054(content, actor=done.treasurer)
    assert report.paid == count
    return len(queries)


def test_statements_per_payment_do_not_grow_with_the_file() -> None:
    small, large = _statements_to_book(20), _statements_to_book(60)
    per_payment = (large - small) / 40
    assert per_payment <= STATEMENTS_PER_PAYMENT, (small, large)
    assert large / 60 <= small / 20, (small, large)  # fixed costs shared, nothing per row more
    assert verify_chain().ok


def test_a_file_that_fails_its_checks_books_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """All or nothing: one wrong entry after more payments than one booking transaction takes
    refuses the whole file; no order, voucher or audit event changes."""
    monkeypatch.setattr(bank_status, "BOOKING_CHUNK", 10)
    done = batch_and_export(25)
    content = camt054_paying(done.order_ids).replace(
        b"</Ntfctn>",
        b"<Ntry><Amt Ccy='SEK'>1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        b"<BookgDt><Dt>2026-13-45</Dt></BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>PO-"
        + str(done.order_ids[0]).encode()
        + b"</EndToEndId></Refs></TxDtls></NtryDtls></Ntry></Ntfctn>",
    )
    vouchers, events = Voucher.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed):
        import_camt054(content, actor=done.treasurer)
    assert Voucher.objects.count() == vouchers
    assert AuditEvent.objects.count() == events
    assert not PaymentOrder.objects.filter(status=OrderStatus.PAID).exists()


def test_a_checked_file_larger_than_one_transaction_is_booked_whole(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bank_status, "BOOKING_CHUNK", 10)
    done = batch_and_export(25)
    report = import_camt054(camt054_paying(done.order_ids), actor=done.treasurer)
    assert report.paid == 25
    paid = PaymentOrder.objects.filter(pk__in=done.order_ids, status=OrderStatus.PAID)
    assert paid.count() == 25
    assert len({o.voucher_id for o in paid}) == 25
    assert AuditEvent.objects.filter(action="application.confirm_paid").count() == 25
    assert verify_chain().ok
    again = import_camt054(camt054_paying(done.order_ids), actor=done.treasurer)
    assert again.paid == 0
