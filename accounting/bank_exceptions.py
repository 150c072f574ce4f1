"""Bank exceptions: money the bank moved that contradicts what we meant.

The books follow the bank. When a bank file shows money leaving for an order we had marked
failed or whose file was declared void, or money coming back for an order booked as paid, the
import books exactly what the bank did against 1689 (bank differences under investigation, on
the order's fund) and opens an exception. A treasurer other than the one who imported the file
resolves it:

* money out that should not have gone: ``recovered`` (it came back: 1930 against 1689) or
  ``accepted_as_grant`` (it stands as a grant: when the order's item is still committed, the
  money settles that decided grant — 2890 against 1689, the commitment becomes an expense — so
  the grant is not a cost twice; otherwise it is a grant of its own, 6710 against 1689);
* money back for a paid order, or a rejection of an order a treasurer had confirmed as paid by
  hand (the money never left): ``returned_to_fund`` (the grant is reversed: 1689 against
  6710). The case is not reopened; paying the person again is a new decision.

Each step is one voucher and one audit event; nothing is refused, nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting import chart
from accounting.commitments import accrual_accounts
from accounting.ledger import (
    Line,
    post_voucher,
    require_treasurer,
)
from accounting.models import (
    BankException,
    BankExceptionKind,
    BankExceptionResolution,
    Commitment,
    CommitmentStatus,
    OrderStatus,
    PaymentOrder,
    VoucherSeries,
)
from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role

#: Which resolutions fit which kind of exception.
RESOLUTIONS = {
    BankExceptionKind.PAID_AFTER_FAILURE: (
        BankExceptionResolution.RECOVERED,
        BankExceptionResolution.ACCEPTED_AS_GRANT,
    ),
    BankExceptionKind.RETURNED_AFTER_PAYMENT: (BankExceptionResolution.RETURNED_TO_FUND,),
    BankExceptionKind.REJECTED_AFTER_CONFIRMATION: (BankExceptionResolution.RETURNED_TO_FUND,),
}


def record_bank_exception(
    order: PaymentOrder,
    *,
    actor: Any,
    kind: str,
    amount: Decimal,
    booking_date: dt.date | None,
    source: str,
) -> BankException | None:
    """Book what the bank did and open an exception; None when this entry was seen before."""
    require_treasurer(actor=actor)
    source = source[:100]
    if BankException.objects.filter(order=order, kind=kind).exists():
        return None  # the same money, said again (another file, or the same one)
    app = order.application
    out = kind == BankExceptionKind.PAID_AFTER_FAILURE  # else money is back in the bank
    signed = amount if out else -amount
    voucher = post_voucher(
        series=VoucherSeries.PAYOUT,
        text=f"Bankdifferens {app.reference} PO-{order.pk}",
        lines=[
            Line(chart.account("bank_suspense"), signed, fund=app.fund),
            Line(chart.account("bank"), -signed, fund=app.fund),
        ],
        actor=actor,
        date=booking_date,
        audit_payload={"order": order.pk, "application": app.reference, "kind": kind},
    )
    exception = BankException.objects.create(
        kind=kind,
        order=order,
        amount=amount,
        booking_date=voucher.date,
        source=source,
        voucher=voucher,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    record_event(
        action="payout.bank_exception",
        actor=actor,
        role=Role.TREASURER,
        object_type="payment_order",
        object_ref=f"PO-{order.pk}",
        payload={
            "exception": exception.pk,
            "kind": kind,
            "order": order.pk,
            "order_status": order.status,
            "application": app.reference,
            "amount": amount,
            "voucher": voucher.pk,
        },
    )
    return exception


def resolve_bank_exception(
    exception: BankException, *, actor: Any, resolution: str, date: dt.date | None = None
) -> BankException:
    """Settle an exception: a treasurer who did not import it decides where the money belongs."""
    require_treasurer(actor=actor)
    with transaction.atomic():
        exception = (
            BankException.objects.select_for_update(of=("self",))
            .select_related("order__application__fund")
            .get(pk=exception.pk)
        )
        if not exception.is_open:
            if exception.resolution == resolution:
                return exception
            raise ValidationFailed(_("This bank exception is already resolved."))
        if resolution not in RESOLUTIONS[BankExceptionKind(exception.kind)]:
            raise ValidationFailed(_("That resolution does not fit this kind of exception."))
        if exception.recorded_by_id == actor.pk:
            raise PermissionDenied(
                _(
                    "You imported the file that raised this exception; another treasurer "
                    "resolves it."
                )
            )
        app = exception.order.application
        amount = exception.amount.amount
        settles = None
        if resolution == BankExceptionResolution.ACCEPTED_AS_GRANT:
            settles = _decided_grant_it_pays(exception.order, amount)
        counter = {
            BankExceptionResolution.RECOVERED: (chart.account("bank"), amount),
            BankExceptionResolution.ACCEPTED_AS_GRANT: (
                accrual_accounts(settles.accrued_by_id)[1]
                if settles is not None and settles.accrued_by_id
                else chart.account("grants_paid"),
                amount,
            ),
            BankExceptionResolution.RETURNED_TO_FUND: (chart.account("grants_paid"), -amount),
        }[BankExceptionResolution(resolution)]
        voucher = post_voucher(
            series=VoucherSeries.PAYOUT,
            text=f"Bankdifferens löst {app.reference} PO-{exception.order_id}",
            lines=[
                Line(counter[0], counter[1], fund=app.fund),
                Line(chart.account("bank_suspense"), -counter[1], fund=app.fund),
            ],
            actor=actor,
            date=date,
            audit_payload={"exception": exception.pk, "resolution": resolution},
        )
        if settles is not None:
            Commitment.objects.filter(pk=settles.pk).update(
                status=CommitmentStatus.EXPENSED,
                closed_at=timezone.now(),
                close_reason="paid_after_failure",
            )
        exception.resolution = resolution
        exception.resolution_voucher = voucher
        exception.resolved_by = actor
        exception.resolved_at = timezone.now()
        exception.save(
            update_fields=["resolution", "resolution_voucher", "resolved_by", "resolved_at"]
        )
        record_event(
            action="payout.bank_exception_resolved",
            actor=actor,
            role=Role.TREASURER,
            object_type="payment_order",
            object_ref=f"PO-{exception.order_id}",
            payload={
                "exception": exception.pk,
                "resolution": resolution,
                "amount": amount,
                "voucher": voucher.pk,
                "settles_commitment": settles.pk if settles else None,
            },
        )
    return exception


def _decided_grant_it_pays(order: PaymentOrder, amount: Decimal) -> Commitment | None:
    """The open, accrued commitment the money the bank paid for ``order`` fulfils, if any.

    Refused while another order for the same item may still be paid: the item would be paid
    twice. A commitment already released or expensed (or of another amount) is not settled:
    the money is then a grant of its own.
    """
    if order.commitment_id is None:
        return None
    commitment = Commitment.objects.select_for_update().get(pk=order.commitment_id)
    if commitment.status != CommitmentStatus.OPEN or commitment.accrued_by_id is None:
        return None
    if commitment.amount.amount != amount:
        return None
    other = (
        PaymentOrder.objects.filter(commitment=commitment, status=OrderStatus.SCHEDULED)
        .exclude(pk=order.pk)
        .first()
    )
    if other is not None:
        raise ValidationFailed(
            _(
                "PO-%(other)s pays the same item and may still be paid by the bank; accept "
                "PO-%(order)s as the grant only once PO-%(other)s has failed or been cancelled."
            )
            % {"other": other.pk, "order": order.pk}
        )
    return commitment


def open_bank_exceptions() -> Any:
    """The treasurer's list: exceptions still to resolve, oldest first."""
    return (
        BankException.objects.filter(resolution="")
        .select_related("order__application", "voucher")
        .order_by("recorded_at", "pk")
    )
