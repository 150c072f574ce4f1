"""Review of issue #17's chunked booking of a bank file: a file is booked whole or not at all
where that matters, and an import stopped half-way is finished by importing the file again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from django.utils import timezone

from accounting import bank_status, ledger
from accounting.bank_status import import_camt054
from accounting.models import OrderStatus, PaymentOrder, Period, Voucher, VoucherSeries
from audit.models import AuditEvent
from audit.verification import verify_chain
from bench.bench_payout import batch_and_export
from core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db


def _camt054(
    order_ids: list[int],
    *,
    dates: Mapping[int, dt.date] | None = None,
    returned: Mapping[int, str] | None = None,
) -> bytes:
    """A camt.054.001.08 booking each order in its own entry (today unless ``dates`` says
    otherwise; a return reason for the orders in ``returned``)."""
    amounts = dict(PaymentOrder.objects.filter(pk__in=order_ids).values_list("pk", "amount"))
    today = timezone.localdate()
    entries = "".join(
        f"<Ntry><Amt Ccy='SEK'>{amounts[pk]}</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{(dates or {}).get(pk, today).isoformat()}</Dt>"
        f"</BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>PO-{pk}</EndToEndId></Refs>"
        + (
            f"<RtrInf><Rsn><Cd>{(returned or {})[pk]}</Cd></Rsn></RtrInf>"
            if pk in (returned or {})
            else ""
        )
        + "</TxDtls></NtryDtls></Ntry>"
        for pk in order_ids
    )
    return (
        '<?xml version="1.0"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>REVIEW17</MsgId>"
        "<CreDtTm>2026-11-24T10:00:00</CreDtTm></GrpHdr><Ntfctn><Id>N1</Id>"
        f"{entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def _payout_numbers() -> list[int]:
    return list(
        Voucher.objects.filter(series=VoucherSeries.PAYOUT)
        .order_by("fiscal_year_id", "number")
        .values_list("number", flat=True)
    )


def test_a_file_whose_later_payments_cannot_be_booked_books_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """All or nothing where it is needed: a file whose last entries are dated in a closed
    period is refused whole by the checks, before its first chunk is booked (it was left paid
    in part, with no re-import able to book the rest: review of issue #17)."""
    monkeypatch.setattr(bank_status, "BOOKING_CHUNK", 10)
    done = batch_and_export(25)
    ledger.fiscal_year_for(dt.date(2023, 1, 1))
    ledger.close_period(Period.objects.get(start=dt.date(2023, 1, 1)), actor=done.treasurer)
    late = {pk: dt.date(2023, 1, 15) for pk in done.order_ids[20:]}
    vouchers, events = Voucher.objects.count(), AuditEvent.objects.count()

    with pytest.raises(ValidationFailed):
        import_camt054(_camt054(done.order_ids, dates=late), actor=done.treasurer)

    assert not PaymentOrder.objects.filter(status=OrderStatus.PAID).exists()
    assert Voucher.objects.count() == vouchers
    assert AuditEvent.objects.count() == events


def test_an_import_stopped_after_its_first_chunk_is_finished_by_importing_the_file_again(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """A crash after chunk 1 of 3: chunk 1 stays booked; the same file again books exactly
    the rest (no payment twice, none lost), vouchers numbered without gaps, the chain whole."""
    monkeypatch.setattr(bank_status, "BOOKING_CHUNK", 10)
    done = batch_and_export(25)
    # Order 3 of chunk 3 is returned by the bank: a later chunk still finds its order.
    returned = {done.order_ids[22]: "AC04"}
    content = _camt054(done.order_ids, returned=returned)
    real_chunk = bank_status._apply_chunk
    calls = {"n": 0}

    def crash_after_first(report: Any, outcomes: Any, actor: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        real_chunk(report, outcomes, actor)

    monkeypatch.setattr(bank_status, "_apply_chunk", crash_after_first)
    with pytest.raises(RuntimeError):
        import_camt054(content, actor=done.treasurer)
    assert PaymentOrder.objects.filter(status=OrderStatus.PAID).count() == 10
    monkeypatch.setattr(bank_status, "_apply_chunk", real_chunk)

    again = import_camt054(content, actor=done.treasurer)

    assert (again.paid, again.failed) == (14, 1)
    orders = PaymentOrder.objects.filter(pk__in=done.order_ids)
    assert orders.filter(status=OrderStatus.PAID).count() == 24
    assert orders.get(pk=done.order_ids[22]).status == OrderStatus.FAILED
    numbers = _payout_numbers()
    assert numbers == list(range(numbers[0], numbers[0] + 24))
    assert AuditEvent.objects.filter(action="payout.order_paid").count() == 24
    assert AuditEvent.objects.filter(action="application.confirm_paid").count() == 24
    assert AuditEvent.objects.filter(action="application.payout_failed").count() == 1
    assert verify_chain().ok
    assert import_camt054(content, actor=done.treasurer).paid == 0


def test_a_refusal_after_the_first_chunk_says_how_many_payments_were_booked(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Should a later chunk still be refused (a race the checks cannot see), the treasurer is
    told what was booked and that the same file books the rest; nothing is left unsaid."""
    monkeypatch.setattr(bank_status, "BOOKING_CHUNK", 10)
    done = batch_and_export(25)
    real_chunk = bank_status._apply_chunk
    calls = {"n": 0}

    def refused_second(report: Any, outcomes: Any, actor: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValidationFailed("The period 2026-12 is closed and takes no vouchers.")
        real_chunk(report, outcomes, actor)

    monkeypatch.setattr(bank_status, "_apply_chunk", refused_second)
    with pytest.raises(ValidationFailed) as refused:
        import_camt054(_camt054(done.order_ids), actor=done.treasurer)
    assert refused.value.messages[0] == (
        "10 payments of this bank file were booked before the import stopped; import the "
        "same file again to book the rest."
    )
    assert "The period 2026-12 is closed" in refused.value.messages[1]
    monkeypatch.setattr(bank_status, "_apply_chunk", real_chunk)
    again = import_camt054(_camt054(done.order_ids), actor=done.treasurer)
    assert again.paid == 15
