"""Payout batch of 10,000 payments: batching the orders, building and validating pain.001.

Setup (not measured) bulk-inserts 10,000 approved, committed and scheduled need items with
four payees (Bankgiro, Plusgiro, bank account, IBAN), registered by one treasurer and
approved by the other. Measured: ``create_batch`` (row locks,
payee re-validation, one UPDATE), ``export_batch`` (pain.001 built with lxml and validated
against the XSD, hashed, audited) and, as the baseline, ``pain001.build`` alone on the same
transfers in memory. Also measured: confirming 500 of them as paid (one voucher, the
commitment and the case's transition each), and booking camt.054 debit notifications of
``BENCH_CAMT_SIZES`` payments (fresh orders, exported and sent): the growth series and two
verdicts, the cost per payment of the largest file within 1.5x of the smallest's, and 10,000
payments in under 30 s.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.utils import timezone

from bench import Growth, Result

COUNT = int(os.environ.get("BENCH_PAYOUT_COUNT", "10000"))
#: Smaller batches measured first, to show how the cost grows.
GROWTH = [int(n) for n in os.environ.get("BENCH_PAYOUT_GROWTH", "").split(",") if n]
CONFIRMED = min(500, COUNT)
#: camt.054 debit notifications booked, one payment an entry: a growth series whose cost per
#: payment must stay flat (within 1.5x from the smallest to the largest file).
CAMT_SIZES = [int(n) for n in os.environ.get("BENCH_CAMT_SIZES", "1000,5000").split(",") if n]


def _setup(count: int = 10_000) -> tuple[User, User, list[int]]:
    from accounting import ledger
    from accounting.models import Commitment, PaymentOrder
    from accounting.payees import approve_payee, create_payee
    from fund.models import Application, Beneficiary, Fund, NeedItem, Ombud, Organisation
    from workflows.models import Decision

    tag = secrets.token_hex(3)
    treasurer_group = Group.objects.get(name="treasurer")
    t1 = User.objects.create(username=f"bench-t1-{tag}")
    t2 = User.objects.create(username=f"bench-t2-{tag}")
    for user in (t1, t2):
        user.groups.add(treasurer_group)
    fund = Fund.objects.create(
        code=f"bench-{tag}",
        name="Bench",
        kind="general",
        accounting_dimension=f"B{int(tag, 16):08d}",  # digits: a code, never a word-like text
    )
    organisation = Organisation.objects.create(
        name="Bench org", org_number=f"21{secrets.randbelow(10**8):08d}", kind="ngo"
    )
    ombud = Ombud.objects.create(
        user=User.objects.create(username=f"bench-o-{tag}"), organisation=organisation
    )
    person = Beneficiary.objects.create(reference=f"B-{tag}", encrypted_personal_data="")
    payees = [
        create_payee(
            actor=t1, kind="supplier", name="Optik AB", method="bankgiro", account="9912346"
        ),
        create_payee(
            actor=t1, kind="supplier", name="Apotek", method="plusgiro", account="9020025"
        ),
        create_payee(
            actor=t1,
            kind="supplier",
            name="Hyra AB",
            method="bank_account",
            clearing_number="6789",
            account="123456703",
        ),
        create_payee(
            actor=t1,
            kind="supplier",
            name="Vard AB",
            method="iban",
            account="SE3250000000000058398250",
        ),
    ]
    # A new payee needs a second treasurer (t1 registered them, t2 approves).
    payees = [approve_payee(payee, actor=t2) for payee in payees]
    now = timezone.now()
    year = ledger.fiscal_year_for(timezone.localdate())
    apps = Application.objects.bulk_create(
        Application(
            reference=f"A-{tag}-{n:06d}",
            fund=fund,
            beneficiary=person,
            ombud=ombud,
            state="payout_scheduled",
        )
        for n in range(count)
    )
    amounts = [Decimal(100 + n % 5000) + Decimal("0.50") for n in range(count)]
    items = NeedItem.objects.bulk_create(
        NeedItem(
            application=app,
            position=1,
            category="glasses",
            requested_amount=amount,
            approved_amount=amount,
            outcome="approved",
        )
        for app, amount in zip(apps, amounts, strict=True)
    )
    decisions = Decision.objects.bulk_create(
        Decision(
            application=app,
            outcome="approve",
            status="effective",
            reason="within_rules",
            total_approved=amount,
            created_at=now,
            effective_at=now,
        )
        for app, amount in zip(apps, amounts, strict=True)
    )
    commitments = Commitment.objects.bulk_create(
        Commitment(
            fund=fund,
            fiscal_year=year,
            application=app,
            need_item=item,
            decision=decision,
            amount=amount,
            created_at=now,
        )
        for app, item, decision, amount in zip(apps, items, decisions, amounts, strict=True)
    )
    orders = PaymentOrder.objects.bulk_create(
        PaymentOrder(
            application=app,
            need_item=item,
            fund=fund,
            commitment=commitment,
            payee=payees[n % 4],
            amount=amount,
            remittance=app.reference,
            scheduled_by=t1,
            created_at=now,
        )
        for n, (app, item, commitment, amount) in enumerate(
            zip(apps, items, commitments, amounts, strict=True)
        )
    )
    return t1, t2, [o.pk for o in orders]


@dataclass
class Batched:
    batch: Any
    content: bytes
    batching: float
    exporting: float
    treasurer: User
    order_ids: list[int]


def batch_and_export(count: int) -> Batched:
    """Batch (timed), approve, and export (timed) ``count`` fresh orders."""
    from accounting.models import PaymentOrder
    from accounting.payouts import batches

    t1, t2, order_ids = _setup(count)
    orders = list(PaymentOrder.objects.filter(pk__in=order_ids))
    started = time.perf_counter()
    batch = batches.create_batch(actor=t1, orders=orders)
    batching = time.perf_counter() - started
    batches.approve_batch(batch, actor=t2)
    started = time.perf_counter()
    content = batches.export_batch(batch, actor=t1)
    return Batched(batch, content, batching, time.perf_counter() - started, t1, order_ids)


def camt054_paying(order_ids: list[int]) -> bytes:
    """A camt.054.001.08 debit notification booking each order in its own entry."""
    from accounting.models import PaymentOrder

    amounts = dict(PaymentOrder.objects.filter(pk__in=order_ids).values_list("pk", "amount"))
    entries = "".join(
        f"<Ntry><Amt Ccy='SEK'>{amounts[pk]}</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{date}</Dt></BookgDt><NtryDtls><TxDtls><Refs>"
        f"<EndToEndId>PO-{pk}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"
        for pk in order_ids
    ).replace("{date}", timezone.localdate().isoformat())
    return (
        '<?xml version="1.0"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH</MsgId>"
        "<CreDtTm>2026-11-24T10:00:00</CreDtTm></GrpHdr><Ntfctn><Id>N1</Id>"
        f"{entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def book_camt054(count: int) -> float:
    """Seconds to import a camt.054 paying ``count`` exported orders (each its own case)."""
    from accounting.bank_status import import_camt054

    done = batch_and_export(count)
    content = camt054_paying(done.order_ids)
    started = time.perf_counter()
    report = import_camt054(content, actor=done.treasurer)
    seconds = time.perf_counter() - started
    assert report.paid == count, report
    return seconds


def run() -> list[Result | Growth]:
    call_command("migrate", verbosity=0)
    from accounting import pain001
    from accounting.models import PaymentOrder
    from accounting.payouts import batches, settlement

    camt_series = "camt.054 booked (one payment an entry, each its own case)"
    camt = [(count, book_camt054(count)) for count in CAMT_SIZES]
    camt_figures: list[Result | Growth] = [Growth(camt_series, n, s) for n, s in camt]
    if len(camt) >= 2:
        (small, small_s), (large, large_s) = camt[0], camt[-1]
        camt_figures.append(
            Result(
                f"camt.054 cost per payment at {large:,} / at {small:,}",
                (large_s / large) / (small_s / small),
                "x",
                target="<= 1.5",
            )
        )
    if camt:
        largest, seconds = camt[-1]
        camt_figures.append(
            Result(
                f"camt.054 of {largest:,} payments booked",
                seconds,
                "s",
                target="< 30 s" if largest >= 10_000 else "",
            )
        )

    series = "create_batch + export_batch (pain.001)"
    growth = []
    for count in GROWTH:
        smaller = batch_and_export(count)
        growth.append(Growth(series, count, smaller.batching + smaller.exporting))
    done = batch_and_export(COUNT)
    batch, content, t1, order_ids = done.batch, done.content, done.treasurer, done.order_ids
    batching, exporting = done.batching, done.exporting

    transfers = batches.transfers_of(batch)
    started = time.perf_counter()
    pain001.build(
        message_id=batch.message_id,
        created_at=timezone.localtime(),
        execution_date=batch.execution_date,
        transfers=transfers,
    )
    building = time.perf_counter() - started
    assert pain001.schema().validate(pain001.etree.fromstring(content))

    batches.mark_sent(batch, actor=t1)
    some = list(PaymentOrder.objects.filter(pk__in=order_ids[:CONFIRMED]))
    started = time.perf_counter()
    assert settlement.confirm_paid(some, actor=t1) == CONFIRMED
    confirming = time.perf_counter() - started
    return [
        Result(f"create_batch, {COUNT:,} orders", batching, "s"),
        Result(
            f"export_batch (build + XSD validate + hash), {COUNT:,} payments",
            exporting,
            "s",
            baseline=building,
        ),
        Result(f"batch + export, {COUNT:,} payments", batching + exporting, "s", target="< 5 s"),
        Result("pain.001 size", len(content) / 1e6, "MB"),
        Result(
            f"confirm {CONFIRMED} payments (voucher 2890/1930, commitment, case to paid)",
            confirming / CONFIRMED * 1000,
            "ms per payment",
        ),
        *growth,
        Growth(series, COUNT, batching + exporting),
        *camt_figures,
    ]
