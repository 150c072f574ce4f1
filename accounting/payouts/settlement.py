"""Settling orders from the bank's answer: paid (the liability booked against the bank) or failed,
and each case moved on once none of its orders is at the bank any more.

Paying an order debits the liability the decision booked (``grants_payable``, 2890) against the
bank (1930) on the fund's object — the grant's cost was booked when the decision took effect
(``commitments.commit_decision``); a commitment made before grants were accrued books its cost
(6710) here instead — and the commitment becomes an expense. When all of a case's commitments are
paid the case moves to ``paid``. A rejected order fails; its case returns to ``approved`` (with the
reason code, so the failed items can be scheduled again) only once none of its orders is still at
the bank — a case stays in payout while any order is scheduled.

Idempotency: an order is paid once (``status`` checked under the row lock, plus a partial unique
constraint and the voucher's one-to-one); confirming again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting import chart
from accounting.commitments import accrual_accounts_of
from accounting.ledger import (
    Line,
    VoucherDraft,
    post_vouchers,
)
from accounting.models import (
    BatchStatus,
    Commitment,
    CommitmentStatus,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
    VoucherSeries,
)
from accounting.payouts.access import require_treasurer
from audit.services import NewEvent, record_event, record_events
from core.exceptions import ValidationFailed
from core.roles import Role
from fund.models import Application
from fund.states import State
from workflows import step_inputs

#: Rows per statement when many orders, commitments or cases are read or written at once.
CHUNK = 1000

#: Bank reason codes (ISO 20022 external status reason) and the workflow's failure codes.
BANK_REASONS = {
    "AC04": "account_closed",
    "AC01": "wrong_account",
    "AC03": "wrong_account",
    "AC06": "account_closed",
    "BE01": "wrong_account",
    "RC01": "wrong_account",
}


def locked_orders(orders: Any) -> list[PaymentOrder]:
    """Lock the orders' applications, then the orders, in a fixed order (no deadlocks)."""
    ids = sorted(set(orders.values_list("application_id", flat=True)))
    list(Application.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    return list(
        PaymentOrder.objects.select_for_update(of=("self",))
        .filter(pk__in=list(orders.values_list("pk", flat=True)))
        .select_related("application__fund", "batch", "commitment", "need_item")
        .order_by("application_id", "pk")
    )


def _payable(order: PaymentOrder, *, by_bank: bool) -> bool:
    """False if the locked order is already paid; refused if it cannot be paid.

    A treasurer's confirmation needs the batch marked sent; the bank's own answer (a status
    report or a debit notification) is proof enough for any exported file.
    """
    if order.status == OrderStatus.PAID:
        return False
    if order.status != OrderStatus.SCHEDULED:
        raise ValidationFailed(_("PO-%(id)s failed and cannot be paid.") % {"id": order.pk})
    batch = order.batch
    sent = batch is not None and (
        batch.status == BatchStatus.SENT or (by_bank and order.in_file and batch.at_the_bank)
    )
    if not sent or not order.in_file:
        raise ValidationFailed(
            _("PO-%(id)s has not been sent to the bank in an approved batch.") % {"id": order.pk}
        )
    return True


def _save_paid(orders: list[PaymentOrder]) -> None:
    """Write the paid orders' new fields: one statement sent for all (psycopg pipelines
    ``executemany``), where ``bulk_update`` builds a CASE expression per field and row."""
    names = ("status", "voucher", "paid_at", "paid_by_bank")
    fields: list[Field[Any, Any]] = [
        f for f in PaymentOrder._meta.concrete_fields if f.name in names
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    table = quote(PaymentOrder._meta.db_table)
    rows = [
        [field.get_db_prep_save(field.pre_save(order, False), connection) for field in fields]
        + [order.pk]
        for order in orders
    ]
    with connection.cursor() as cursor:
        # Names from the model, values as parameters.
        cursor.executemany(f"UPDATE {table} SET {columns} WHERE id = %s", rows)  # noqa: S608 # nosec B608


def pay_locked_orders(
    orders: Iterable[PaymentOrder],
    *,
    actor: Any,
    date: dt.date | None = None,
    by_bank: bool = False,
) -> list[PaymentOrder]:
    """Book locked orders as paid; returns those newly paid (already paid ones are skipped).

    Each order gets its own voucher (the liability the decision booked against the bank, on
    the fund's object), its commitment becomes an expense and a ``payout.order_paid`` event is
    appended — for the whole lot in a few statements (:func:`ledger.post_vouchers`,
    :func:`audit.services.record_events`), so a bank file of 10,000 payments costs what its
    rows cost. One order that cannot be paid refuses them all.
    """
    todo = [order for order in orders if _payable(order, by_bank=by_bank)]
    if not todo:
        return []
    # Settle the liability the decision booked (whatever the chart maps the role to now).
    accrued = accrual_accounts_of(
        order.commitment.accrued_by_id
        for order in todo
        if order.commitment is not None and order.commitment.accrued_by_id
    )
    grants_paid, bank = chart.account("grants_paid"), chart.account("bank")

    def debit_of(order: PaymentOrder) -> str:
        accrued_by = order.commitment.accrued_by_id if order.commitment is not None else None
        return accrued[accrued_by][1] if accrued_by else grants_paid

    debits = [debit_of(order) for order in todo]
    vouchers = post_vouchers(
        [
            VoucherDraft(
                text=f"Utbetalning {order.application.reference} PO-{order.pk}",
                lines=[
                    Line(debit, order.amount.amount, fund=order.application.fund),
                    Line(bank, -order.amount.amount, fund=order.application.fund),
                ],
                audit_payload={"order": order.pk, "application": order.application.reference},
            )
            for order, debit in zip(todo, debits, strict=True)
        ],
        series=VoucherSeries.PAYOUT,
        actor=actor,
        date=date,
    )
    now = timezone.now()
    for order, voucher in zip(todo, vouchers, strict=True):
        order.status = OrderStatus.PAID
        order.voucher = voucher
        order.paid_at = now
        order.paid_by_bank = by_bank
    _save_paid(todo)
    commitments = [order.commitment_id for order in todo if order.commitment_id is not None]
    for start in range(0, len(commitments), CHUNK):
        Commitment.objects.filter(
            pk__in=commitments[start : start + CHUNK], status=CommitmentStatus.OPEN
        ).update(status=CommitmentStatus.EXPENSED, closed_at=now, close_reason="paid")
    record_events(
        [
            NewEvent(
                action="payout.order_paid",
                actor=actor,
                role=Role.TREASURER,
                object_type="payment_order",
                object_ref=f"PO-{order.pk}",
                payload={
                    "order": order.pk,
                    "application": order.application.reference,
                    "voucher": voucher.pk,
                    "amount": order.amount.amount,
                    "debit": debit,
                    "credit": bank,
                    "fund": order.application.fund.accounting_dimension,
                },
            )
            for order, voucher, debit in zip(todo, vouchers, debits, strict=True)
        ]
    )
    return todo


def settle_cases(application_ids: Iterable[int], *, actor: Any) -> None:
    """Move each case on once none of its orders is at the bank any more.

    All paid: ``confirm_paid``. Some failed (and none still scheduled): ``payout_failed``, back
    to ``approved`` so the failed items can be scheduled again. Anything still scheduled: the
    case stays in payout — so it can be neither withdrawn nor rescheduled while money may move.
    What each case needs is read for all of them at once; each case then takes its step
    through the workflow's front door.
    """
    from workflows.services import transition

    ids = sorted(set(application_ids))
    cases: list[Application] = []
    waiting: set[int] = set()
    unpaid: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        cases += Application.objects.filter(pk__in=chunk, state=State.PAYOUT_SCHEDULED)
        waiting.update(
            PaymentOrder.objects.filter(
                application_id__in=chunk, status=OrderStatus.SCHEDULED
            ).values_list("application_id", flat=True)
        )
        unpaid.update(
            Commitment.objects.filter(
                application_id__in=chunk, status=CommitmentStatus.OPEN
            ).values_list("application_id", flat=True)
        )
    for app in sorted(cases, key=lambda a: a.pk):
        if app.pk in waiting:
            continue
        if app.pk not in unpaid:
            transition(app, actor=actor, step=step_inputs.ConfirmPaid())
            continue
        open_left = Commitment.objects.filter(application=app, status=CommitmentStatus.OPEN)
        failed = list(
            PaymentOrder.objects.filter(
                application=app, status=OrderStatus.FAILED, commitment__in=open_left
            ).order_by("-pk")
        )
        transition(
            app,
            actor=actor,
            step=step_inputs.PayoutFailed(
                reason=_failure_reason(failed[0].failure_reason if failed else ""),
                payment_orders=tuple(o.pk for o in failed),
            ),
        )


def _failure_reason(reason: str) -> str:
    from workflows.services import PayoutFailure

    return reason if reason in PayoutFailure.values else "rejected_by_bank"


def confirm_paid(
    orders: Iterable[PaymentOrder],
    *,
    actor: Any,
    date: dt.date | None = None,
    by_bank: bool = False,
) -> int:
    """The bank paid these orders; returns how many were newly booked (retries book none)."""
    require_treasurer(actor=actor)
    ids = [o.pk for o in orders]
    with transaction.atomic():
        locked = locked_orders(PaymentOrder.objects.filter(pk__in=ids))
        paid = pay_locked_orders(locked, actor=actor, date=date, by_bank=by_bank)
        settle_cases([o.application_id for o in paid], actor=actor)
    return len(paid)


def confirm_batch_paid(batch: PaymentBatch, *, actor: Any, date: dt.date | None = None) -> int:
    return confirm_paid(
        list(batch.orders.filter(status=OrderStatus.SCHEDULED)), actor=actor, date=date
    )


def fail_locked_order(order: PaymentOrder, *, actor: Any, code: str, reason: str) -> None:
    order.status = OrderStatus.FAILED
    order.failure_code = code[:8]
    order.failure_reason = reason
    order.save(update_fields=["status", "failure_code", "failure_reason"])
    record_event(
        action="payout.order_failed",
        actor=actor,
        role=Role.TREASURER,
        object_type="payment_order",
        object_ref=f"PO-{order.pk}",
        payload={
            "order": order.pk,
            "application": order.application.reference,
            "code": code,
            "reason": reason,
        },
    )


def reject_orders(
    orders: Iterable[PaymentOrder], *, actor: Any, code: str = "", reason: str = ""
) -> int:
    """The bank rejected (or returned) these orders: they fail, and each case moves on once
    none of its orders is still at the bank (see :func:`settle_cases`)."""
    require_treasurer(actor=actor)
    reason = reason or BANK_REASONS.get(code, "rejected_by_bank")
    ids = [o.pk for o in orders]
    with transaction.atomic():
        locked = locked_orders(PaymentOrder.objects.filter(pk__in=ids))
        failed = []
        for order in locked:
            if order.status in (OrderStatus.FAILED, OrderStatus.CANCELLED):
                continue
            if order.status == OrderStatus.PAID:
                raise ValidationFailed(
                    _("PO-%(id)s is already booked as paid; a returned payment is new income.")
                    % {"id": order.pk}
                )
            fail_locked_order(order, actor=actor, code=code, reason=reason)
            failed.append(order)
        settle_cases([o.application_id for o in failed], actor=actor)
    return len(failed)
