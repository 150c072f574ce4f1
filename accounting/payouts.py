"""Payment orders, payment batches, the bank file and the bank's answer.

Flow: ``schedule_payout`` (workflow) creates one ``PaymentOrder`` per approved, committed
need item, to the payee chosen per item (``payees={item_id: payee_id}``), to one payee for
all (``payee=payee_id``), or by default to the single active payee of the ombud's
organisation. A treasurer puts scheduled orders in a ``PaymentBatch``; a *different*
treasurer, who signed no decision in the batch, registered none of its payees and scheduled
none of its orders, approves it (and every payee needs a second treasurer's approval before
anything is scheduled to it, see ``payees.approve_payee``); the pain.001 file is exported
(validated against the XSD first) and the batch marked sent. The bank's answer (a pain.002
file or a treasurer's confirmation) pays each order: the liability the decision booked
(``grants_payable``, 2890) is debited against the bank (1930) on the fund's object — the
grant's cost was booked when the decision took effect (``commitments.commit_decision``); a
commitment made before grants were accrued books its cost (6710) here instead — the
commitment becomes an expense, and when all of a case's commitments are
paid the case moves to ``paid``. A rejected order fails; its case returns to ``approved``
(with the reason code, so the failed items can be scheduled again) only once none of its orders
is still at the bank — a case stays in payout while any order is scheduled.

What may go into a file: only orders still payable (scheduled). Once a batch's file is exported
its orders are ``in_file``: the bank may pay them, so they fail only by the bank's word (pain.002,
camt.054) or when a second treasurer declares the whole file void ("the bank did not receive
it"), which cancels its orders and schedules replacements with new end-to-end ids. An exported
batch is never cancelled, so no commitment is ever in two files the bank may pay.

Idempotency: an order sits in at most one batch (``batch`` is set once, under a row lock) and
is paid once (``status`` checked under the lock, plus a partial unique constraint and the
voucher's one-to-one); exporting, sending and confirming again change nothing.
Lock order everywhere: applications, then orders, then fund, then voucher counter, then the
audit head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from accounting import chart, pain001
from accounting.commitments import accrual_accounts
from accounting.ledger import (
    ZERO,
    Line,
    post_voucher,
)
from accounting.models import (
    BatchStatus,
    Commitment,
    CommitmentStatus,
    OrderStatus,
    Payee,
    PayeeKind,
    PaymentBatch,
    PaymentOrder,
    VoucherSeries,
)
from accounting.payees import default_payee, payee_problems
from audit.models import AuditEvent
from audit.services import record_event
from core.crypto import DecryptionFailed, unwrap_with_master_keys, wrap_with_master_keys
from core.exceptions import PermissionDenied, ValidationFailed
from core.inputs import as_id, shown
from core.roles import Role, has_role
from fund.models import Application
from fund.states import State
from workflows.models import DecisionSignature

#: Bank reason codes (ISO 20022 external status reason) and the workflow's failure codes.
BANK_REASONS = {
    "AC04": "account_closed",
    "AC01": "wrong_account",
    "AC03": "wrong_account",
    "AC06": "account_closed",
    "BE01": "wrong_account",
    "RC01": "wrong_account",
}


def require_treasurer(actor: Any) -> None:
    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(_("Only a treasurer may handle payouts."))


# --------------------------------------------------------------------------------------
# Payment orders (from the workflow)
# --------------------------------------------------------------------------------------


def _payee_for(
    item_id: int,
    payees: Mapping[Any, Any],
    payee: Any,
    application: Application,
) -> tuple[Payee | None, Any]:
    """The payee for an item and what was asked for (None: the default was used)."""
    chosen = payees.get(item_id, payees.get(str(item_id), payee))
    if chosen is None:
        return default_payee(application.ombud.organisation_id), None
    if isinstance(chosen, Payee):
        return chosen, chosen
    pk = as_id(chosen)
    return (Payee.objects.filter(pk=pk).first() if pk else None), shown(chosen)


def schedule_orders(
    application: Application,
    actor: Any,
    *,
    payees: Mapping[Any, Any] | None = None,
    payee: Any = None,
) -> list[PaymentOrder]:
    """Create the payment orders of a case's approved items that have none yet."""
    commitments = list(
        Commitment.objects.filter(application=application, status=CommitmentStatus.OPEN)
        .exclude(payment_orders__status__in=[OrderStatus.SCHEDULED, OrderStatus.PAID])
        .select_related("need_item")
        .order_by("need_item__position")
    )
    if not commitments:
        raise ValidationFailed(_("There is no approved amount left to pay out."))
    if payees is not None and not isinstance(payees, Mapping):
        raise ValidationFailed(_("Payees must be given per need item (item id: payee id)."))
    problems: list[str] = []
    unknown = {shown(key) for key in (payees or {})} - {str(c.need_item_id) for c in commitments}
    if unknown:
        problems.append(
            _("Payees were given for items that are not to be paid: %(items)s")
            % {"items": ", ".join(sorted(unknown))}
        )
    chosen: list[tuple[Commitment, Payee]] = []
    for commitment in commitments:
        label = _("Item %(n)s") % {"n": commitment.need_item.position}
        target, asked = _payee_for(commitment.need_item_id, payees or {}, payee, application)
        if target is None and asked is not None:
            problems.append(
                _("%(label)s: there is no payee %(payee)s.") % {"label": label, "payee": asked}
            )
            continue
        if target is None:
            problems.append(
                _("%(label)s: choose a payee (the ombud's organisation has no single payee).")
                % {"label": label}
            )
            continue
        problems += [f"{label}: {p}" for p in payee_problems(target)]
        if target.kind == PayeeKind.PERSON and target.beneficiary_id is None:
            # Registered before the person was required: erasure would never reach it.
            problems.append(
                _(
                    "%(label)s: that person payee names no person; register it again for "
                    "the case's person."
                )
                % {"label": label}
            )
        elif (
            target.kind == PayeeKind.PERSON and target.beneficiary_id != application.beneficiary_id
        ):
            problems.append(
                _("%(label)s: that person payee belongs to another person.") % {"label": label}
            )
        if target.kind == PayeeKind.PERSON and application.beneficiary.protected_identity:
            problems.append(
                _(
                    "%(label)s: the person has a protected identity; pay a supplier or the "
                    "ombud's organisation instead."
                )
                % {"label": label}
            )
        chosen.append((commitment, target))
    if problems:
        raise ValidationFailed(problems)
    now = timezone.now()
    orders = PaymentOrder.objects.bulk_create(
        PaymentOrder(
            application=application,
            need_item=commitment.need_item,
            fund_id=application.fund_id,
            commitment=commitment,
            payee=target,
            amount=commitment.amount,
            remittance=application.reference,
            scheduled_by=actor,
            created_at=now,
        )
        for commitment, target in chosen
    )
    if any(order.pk is None for order in orders):  # backends without RETURNING
        orders = list(
            PaymentOrder.objects.filter(
                commitment__in=[c for c, _p in chosen], status=OrderStatus.SCHEDULED
            )
        )
    record_event(
        action="payout.orders_scheduled",
        actor=actor,
        role=Role.TREASURER,
        object_type="payment_orders",
        object_ref=f"PO-{orders[0].pk}",
        payload={
            "application": application.reference,
            "orders": [
                {
                    "order": o.pk,
                    "item": o.need_item.position,
                    "payee": o.payee_id,
                    "amount": o.amount.amount,
                }
                for o in orders
            ],
        },
    )
    return orders


def settle_for_confirmation(application: Application, actor: Any) -> None:
    """Before a case is confirmed paid: pay its orders the bank was sent; refuse otherwise."""
    for order in locked_orders(
        PaymentOrder.objects.filter(application=application, status=OrderStatus.SCHEDULED)
    ):
        _pay(order, actor)
    unpaid = Commitment.objects.filter(application=application, status=CommitmentStatus.OPEN)
    if unpaid.exists():
        raise ValidationFailed(
            _("%(ref)s still has approved items that are not paid.")
            % {"ref": application.reference}
        )


def fail_open_orders(
    application: Application, actor: Any, *, reason: str, already: Iterable[int] = ()
) -> None:
    """When a case's payout failed without naming orders: fail its scheduled orders."""
    if list(already):
        return
    orders = list(
        PaymentOrder.objects.select_for_update(of=("self",))
        .filter(application=application, status=OrderStatus.SCHEDULED)
        .select_related("batch")
        .order_by("pk")
    )
    at_bank = [o for o in orders if o.in_file and o.batch is not None and o.batch.at_the_bank]
    if at_bank:
        raise ValidationFailed(
            _(
                "PO-%(id)s is in file %(batch)s, which the bank may pay: wait for the bank's "
                "answer, or have a second treasurer declare the file void if the bank did not "
                "receive it."
            )
            % {"id": at_bank[0].pk, "batch": at_bank[0].batch.message_id}  # type: ignore[union-attr]
        )
    for order in orders:
        _mark_failed(order, actor, code="", reason=reason)


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------


def create_batch(
    actor: Any,
    *,
    orders: Iterable[PaymentOrder] | None = None,
    applications: Iterable[Application] | None = None,
    execution_date: dt.date | None = None,
) -> PaymentBatch:
    """Put scheduled orders not yet in a batch into a new batch (all, or those named)."""
    require_treasurer(actor)
    with transaction.atomic():
        candidates = PaymentOrder.objects.filter(status=OrderStatus.SCHEDULED, batch__isnull=True)
        if orders is not None:
            candidates = candidates.filter(pk__in=[o.pk for o in orders])
        if applications is not None:
            candidates = candidates.filter(application__in=list(applications))
        locked: list[Any] = list(
            candidates.select_for_update()
            .order_by("pk")
            .values_list("pk", "payee_id", "amount", named=True)
        )
        if not locked:
            raise ValidationFailed(_("There are no scheduled payment orders to put in a batch."))
        payees = Payee.objects.filter(pk__in={o.payee_id for o in locked})
        problems = sorted({p for payee in payees for p in payee_problems(payee)})
        if problems:
            raise ValidationFailed(problems)
        now = timezone.now()
        batch = PaymentBatch.objects.create(
            message_id=f"FF-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4).upper()}",
            execution_date=execution_date or timezone.localdate(),
            created_by=actor,
            created_at=now,
        )
        ids = [o.pk for o in locked]
        updated = PaymentOrder.objects.filter(
            pk__in=ids, batch__isnull=True, status=OrderStatus.SCHEDULED
        ).update(batch=batch)
        if updated != len(locked):
            raise ValidationFailed(_("Some orders were batched meanwhile; try again."))
        _batch_event(
            batch,
            actor,
            "payout.batch_created",
            {
                "batch": batch.pk,
                "orders": ids,
                "count": len(ids),
                "total": sum((o.amount for o in locked), ZERO),
            },
        )
    return batch


def _batch_event(batch: PaymentBatch, actor: Any, action: str, payload: dict[str, Any]) -> None:
    record_event(
        action=action,
        actor=actor,
        role=Role.TREASURER,
        object_type="payment_batch",
        object_ref=batch.message_id,
        payload=payload,
    )


def _locked_batch(batch: PaymentBatch) -> PaymentBatch:
    return PaymentBatch.objects.select_for_update().get(pk=batch.pk)


def decision_signers(batch: PaymentBatch) -> set[int]:
    application_ids = batch.orders.values_list("application_id", flat=True)
    return set(
        DecisionSignature.objects.filter(decision__application_id__in=application_ids).values_list(
            "signer_id", flat=True
        )
    )


def payee_registrars(batch: PaymentBatch) -> set[int]:
    """Who registered the payees the batch pays (unknown for payees from before 0007)."""
    return set(
        Payee.objects.filter(orders_in_batch(batch), registered_by__isnull=False).values_list(
            "registered_by_id", flat=True
        )
    )


def order_schedulers(batch: PaymentBatch) -> set[int]:
    """Who scheduled the batch's orders.

    Orders from before ``scheduled_by`` was recorded (null) are looked up in the audit log:
    everyone who scheduled a payout of those cases counts, which may exclude more people
    than scheduled these very orders, never fewer.
    """
    rows = list(batch.orders.values_list("scheduled_by_id", "remittance"))
    schedulers = {by for by, _ref in rows if by is not None}
    unknown = sorted({ref for by, ref in rows if by is None})
    if unknown:
        actors = AuditEvent.objects.filter(
            action="payout.orders_scheduled", payload__application__in=unknown
        ).values_list("actor_id", flat=True)
        schedulers |= {actor for actor in actors if actor is not None}
    return schedulers


def approve_batch(batch: PaymentBatch, actor: Any) -> PaymentBatch:
    """A second treasurer approves the batch: not whoever created it, decided a case in it,
    registered a payee it pays or scheduled one of its orders (no one pays where they chose).
    """
    require_treasurer(actor)
    with transaction.atomic():
        batch = _locked_batch(batch)
        if batch.created_by_id == actor.pk:
            raise PermissionDenied(
                _("You created this batch; a payout batch needs a treasurer who did not.")
            )
        if actor.pk in decision_signers(batch):
            raise PermissionDenied(
                _("You decided a case in this batch, so another treasurer must approve it.")
            )
        if actor.pk in payee_registrars(batch):
            raise PermissionDenied(
                _("You registered a payee in this batch, so another treasurer must approve it.")
            )
        if actor.pk in order_schedulers(batch):
            raise PermissionDenied(
                _(
                    "You scheduled a payment order in this batch, so another treasurer must "
                    "approve it."
                )
            )
        if batch.status in (BatchStatus.APPROVED, BatchStatus.SENT):
            return batch
        if batch.status != BatchStatus.DRAFT:
            raise ValidationFailed(_("This batch is cancelled or void."))
        batch.status = BatchStatus.APPROVED
        batch.approved_by = actor
        batch.approved_at = timezone.now()
        batch.save(update_fields=["status", "approved_by", "approved_at"])
        _batch_event(
            batch,
            actor,
            "payout.batch_approved",
            {"batch": batch.pk, "created_by": batch.created_by_id},
        )
    return batch


def payable_in_file(batch: PaymentBatch) -> Any:
    """The orders a batch's file carries: before export those still payable, after it those
    that were exported (the file never changes once it may be at the bank)."""
    if batch.exported_at is not None:
        return batch.orders.filter(in_file=True)
    return batch.orders.filter(status=OrderStatus.SCHEDULED)


def transfers_of(batch: PaymentBatch) -> list[pain001.Transfer]:
    rows = (
        payable_in_file(batch).order_by("pk").values_list("pk", "amount", "remittance", "payee_id")
    )
    payees = {p.pk: p for p in Payee.objects.filter(orders_in_batch(batch))}
    problems = sorted({p for payee in payees.values() for p in payee_problems(payee)})
    if problems:
        raise ValidationFailed(problems)
    # Decrypted once per payee (a person's account is kept under their key).
    destinations = {pk: payee.destination() for pk, payee in payees.items()}
    return [
        pain001.Transfer(
            end_to_end_id=f"PO-{pk}",
            amount=amount,
            creditor_name=payees[payee_id].bank_file_name,
            method=destinations[payee_id].method,
            account=destinations[payee_id].account,
            clearing_number=destinations[payee_id].clearing_number,
            bic=destinations[payee_id].bic,
            remittance=remittance,
        )
        for pk, amount, remittance, payee_id in rows
    ]


def orders_in_batch(batch: PaymentBatch) -> Q:
    return Q(pk__in=payable_in_file(batch).values("payee_id"))


def new_file_nonce() -> str:
    """128 random bits: with them in the file, its digest cannot be recomputed for candidate
    accounts (a personkonto is clearing 3300 + a personnummer) from the database alone."""
    return secrets.token_hex(16)


def export_batch(batch: PaymentBatch, actor: Any) -> bytes:
    """The batch's pain.001 file, validated against the XSD; the same bytes every time."""
    require_treasurer(actor)
    with transaction.atomic():
        batch = _locked_batch(batch)
        if batch.status not in (BatchStatus.APPROVED, BatchStatus.SENT):
            raise ValidationFailed(
                _("A batch is exported only after a second treasurer approved it.")
            )
        first = batch.exported_at is None
        created_at = batch.exported_at or timezone.localtime()
        if first and not batch.wrapped_file_nonce:
            batch.wrapped_file_nonce = wrap_with_master_keys(new_file_nonce())
        transfers = transfers_of(batch)
        if not transfers:
            raise ValidationFailed(
                _("No order in this batch can still be paid (they failed); cancel the batch.")
            )
        content = pain001.build(
            message_id=batch.message_id,
            created_at=timezone.localtime(created_at),
            execution_date=batch.execution_date,
            transfers=transfers,
            nonce=batch.file_nonce,
        )
        digest = hashlib.sha256(content).hexdigest()
        if not first:
            if digest != batch.file_sha256:
                raise ValidationFailed(
                    _("The batch no longer produces the file that was exported; do not send it.")
                )
            return content
        in_file = [int(t.end_to_end_id.removeprefix("PO-")) for t in transfers]
        PaymentOrder.objects.filter(pk__in=in_file).update(in_file=True)
        batch.exported_at = created_at
        batch.exported_by = actor
        batch.file_sha256 = digest
        batch.save(
            update_fields=["exported_at", "exported_by", "file_sha256", "wrapped_file_nonce"]
        )
        _batch_event(
            batch,
            actor,
            "payout.batch_exported",
            {
                "batch": batch.pk,
                "sha256": digest,
                "format": "pain.001.001.03",
                "orders": in_file,
            },
        )
    return content


def mark_sent(batch: PaymentBatch, actor: Any, *, by_bank_file: bool = False) -> PaymentBatch:
    """The file went to the bank (said by a treasurer, or shown by the bank answering it)."""
    require_treasurer(actor)
    with transaction.atomic():
        batch = _locked_batch(batch)
        if batch.status in (BatchStatus.SENT, BatchStatus.VOIDED):
            return batch
        if batch.status != BatchStatus.APPROVED or batch.exported_at is None:
            raise ValidationFailed(_("Export the approved batch's file before marking it sent."))
        batch.status = BatchStatus.SENT
        batch.sent_at = timezone.now()
        batch.sent_by = actor
        batch.save(update_fields=["status", "sent_at", "sent_by"])
        _batch_event(
            batch,
            actor,
            "payout.batch_sent",
            {"batch": batch.pk, "sha256": batch.file_sha256, "by_bank_file": by_bank_file},
        )
    return batch


def cancel_batch(batch: PaymentBatch, actor: Any) -> PaymentBatch:
    """Undo a batch whose file was never exported: its orders are free to be batched again."""
    require_treasurer(actor)
    with transaction.atomic():
        batch = _locked_batch(batch)
        if batch.status == BatchStatus.CANCELLED:
            return batch
        if batch.exported_at is not None:
            raise ValidationFailed(
                _(
                    "This batch's file was exported, so the bank may have it: it cannot be "
                    "cancelled. If the bank did not receive it, a second treasurer declares the "
                    "file void."
                )
            )
        orders = list(batch.orders.values_list("pk", flat=True))
        PaymentOrder.objects.filter(pk__in=orders).update(batch=None)
        batch.status = BatchStatus.CANCELLED
        batch.save(update_fields=["status"])
        _batch_event(batch, actor, "payout.batch_cancelled", {"batch": batch.pk, "orders": orders})
    return batch


# --------------------------------------------------------------------------------------
# The bank's answer
# --------------------------------------------------------------------------------------


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


def _pay(
    order: PaymentOrder, actor: Any, date: dt.date | None = None, *, by_bank: bool = False
) -> bool:
    """Book a locked order as paid; False if it already was.

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
    app = order.application
    amount = order.amount.amount
    accrued_by = order.commitment.accrued_by_id if order.commitment is not None else None
    # Settle the liability the decision booked (whatever the chart maps the role to now).
    debit = accrual_accounts(accrued_by)[1] if accrued_by else chart.account("grants_paid")
    credit = chart.account("bank")
    voucher = post_voucher(
        series=VoucherSeries.PAYOUT,
        text=f"Utbetalning {app.reference} PO-{order.pk}",
        lines=[
            Line(debit, amount, fund=app.fund),
            Line(credit, -amount, fund=app.fund),
        ],
        actor=actor,
        date=date,
        audit_payload={"order": order.pk, "application": app.reference},
    )
    now = timezone.now()
    order.status = OrderStatus.PAID
    order.voucher = voucher
    order.paid_at = now
    order.paid_by_bank = by_bank
    order.save(update_fields=["status", "voucher", "paid_at", "paid_by_bank"])
    Commitment.objects.filter(pk=order.commitment_id, status=CommitmentStatus.OPEN).update(
        status=CommitmentStatus.EXPENSED, closed_at=now, close_reason="paid"
    )
    record_event(
        action="payout.order_paid",
        actor=actor,
        role=Role.TREASURER,
        object_type="payment_order",
        object_ref=f"PO-{order.pk}",
        payload={
            "order": order.pk,
            "application": app.reference,
            "voucher": voucher.pk,
            "amount": amount,
            "debit": debit,
            "credit": credit,
            "fund": app.fund.accounting_dimension,
        },
    )
    return True


def settle_cases(application_ids: Iterable[int], actor: Any) -> None:
    """Move each case on once none of its orders is at the bank any more.

    All paid: ``confirm_paid``. Some failed (and none still scheduled): ``payout_failed``, back
    to ``approved`` so the failed items can be scheduled again. Anything still scheduled: the
    case stays in payout — so it can be neither withdrawn nor rescheduled while money may move.
    """
    from workflows import step_inputs
    from workflows.services import transition

    for app_id in sorted(set(application_ids)):
        app = Application.objects.get(pk=app_id)
        if app.state != State.PAYOUT_SCHEDULED:
            continue
        orders = PaymentOrder.objects.filter(application=app)
        if orders.filter(status=OrderStatus.SCHEDULED).exists():
            continue
        open_left = Commitment.objects.filter(application=app, status=CommitmentStatus.OPEN)
        if not open_left.exists():
            transition(app, actor=actor, step=step_inputs.ConfirmPaid())
            continue
        failed = list(
            orders.filter(status=OrderStatus.FAILED, commitment__in=open_left).order_by("-pk")
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
    actor: Any,
    *,
    date: dt.date | None = None,
    by_bank: bool = False,
) -> int:
    """The bank paid these orders; returns how many were newly booked (retries book none)."""
    require_treasurer(actor)
    ids = [o.pk for o in orders]
    with transaction.atomic():
        locked = locked_orders(PaymentOrder.objects.filter(pk__in=ids))
        paid = [o for o in locked if _pay(o, actor, date, by_bank=by_bank)]
        settle_cases([o.application_id for o in paid], actor)
    return len(paid)


def confirm_batch_paid(batch: PaymentBatch, actor: Any, *, date: dt.date | None = None) -> int:
    return confirm_paid(list(batch.orders.filter(status=OrderStatus.SCHEDULED)), actor, date=date)


def _mark_failed(order: PaymentOrder, actor: Any, *, code: str, reason: str) -> None:
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
    orders: Iterable[PaymentOrder], actor: Any, *, code: str = "", reason: str = ""
) -> int:
    """The bank rejected (or returned) these orders: they fail, and each case moves on once
    none of its orders is still at the bank (see :func:`settle_cases`)."""
    require_treasurer(actor)
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
            _mark_failed(order, actor, code=code, reason=reason)
            failed.append(order)
        settle_cases([o.application_id for o in failed], actor)
    return len(failed)


# --------------------------------------------------------------------------------------
# A file the bank did not receive
# --------------------------------------------------------------------------------------


def void_batch_file(batch: PaymentBatch, *, actor: Any) -> PaymentBatch:
    """A second treasurer declares that the bank did not receive this exported file.

    Its message id is void from then on; its unpaid orders are cancelled and replaced by new
    orders (new end-to-end ids) for the same items, to be batched into a new file. Should the
    bank pay the void file after all, the payment becomes a bank exception, never a second
    silent payment.
    """
    require_treasurer(actor)
    with transaction.atomic():
        batch = _locked_batch(batch)
        if batch.status == BatchStatus.VOIDED:
            return batch
        if batch.exported_at is None:
            raise ValidationFailed(
                _("This batch's file was never exported: cancel the batch instead.")
            )
        if actor.pk in (batch.exported_by_id, batch.sent_by_id):
            raise PermissionDenied(
                _(
                    "You exported or sent this file; another treasurer must declare that the "
                    "bank did not receive it."
                )
            )
        if actor.pk in payee_registrars(batch) | order_schedulers(batch):
            raise PermissionDenied(
                _(
                    "You registered a payee or scheduled an order in this file; another "
                    "treasurer must declare that the bank did not receive it."
                )
            )
        ids = list(batch.orders.filter(in_file=True).values_list("pk", flat=True))
        orders = locked_orders(PaymentOrder.objects.filter(pk__in=ids))
        answered = [o for o in orders if o.status != OrderStatus.SCHEDULED]
        if answered:
            raise ValidationFailed(
                _(
                    "The bank has already answered for PO-%(id)s in this file, so it received "
                    "the file: it cannot be declared void."
                )
                % {"id": answered[0].pk}
            )
        now = timezone.now()
        PaymentOrder.objects.filter(pk__in=ids).update(status=OrderStatus.CANCELLED)
        replacements = PaymentOrder.objects.bulk_create(
            PaymentOrder(
                application_id=o.application_id,
                need_item_id=o.need_item_id,
                fund_id=o.fund_id,
                commitment_id=o.commitment_id,
                payee_id=o.payee_id,
                amount=o.amount,
                remittance=o.remittance,
                scheduled_by_id=o.scheduled_by_id,
                created_at=now,
            )
            for o in orders
        )
        if any(r.pk is None for r in replacements):  # backends without RETURNING
            replacements = list(
                PaymentOrder.objects.filter(
                    need_item_id__in=[o.need_item_id for o in orders],
                    status=OrderStatus.SCHEDULED,
                ).order_by("need_item_id")
            )
        batch.status = BatchStatus.VOIDED
        batch.voided_at = now
        batch.voided_by = actor
        batch.save(update_fields=["status", "voided_at", "voided_by"])
        void_file = Path(settings.PAYOUT_FILES_DIR) / f"{batch.message_id}.xml"
        transaction.on_commit(lambda: _shred_file(void_file))  # never uploaded again
        _batch_event(
            batch,
            actor,
            "payout.batch_voided",
            {
                "batch": batch.pk,
                "message_id": batch.message_id,
                "sha256": batch.file_sha256,
                "exported_by": batch.exported_by_id,
                "cancelled": ids,
                "replacements": sorted(r.pk for r in replacements),
            },
        )
    return batch


# --------------------------------------------------------------------------------------
# Erasure: the bank files that named a person's own account
# --------------------------------------------------------------------------------------

#: What replaces a person's account, clearing number and BIC in a bank file after erasure
#: (and the file's nonce in ``PmtInfId``).
REDACTED = "REDACTED"


def _redacted_bank_file(content: bytes, end_to_end_ids: set[str], secrets_: list[str]) -> bytes:
    """The file with the creditor account and agent of the payee's transfers redacted, and
    the nonce of a file that paid the payee: left in, it and the database would let the
    redacted account be guessed back against the file's stored digest.

    Anything of the account or nonce still left (a file that is not what we wrote) is replaced
    as plain bytes, so the result never holds it.
    """
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        root = None
    if root is not None:
        ns = {"p": pain001.NAMESPACE}
        for info in root.iterfind(".//p:PmtInf", ns):
            paid = info.xpath(
                "p:CdtTrfTxInf/p:PmtId/p:EndToEndId/text()", namespaces=ns, smart_strings=False
            )
            if end_to_end_ids.intersection(paid):
                for element in info.iterfind("p:PmtInfId", ns):
                    element.text = REDACTED
        for tx in root.iterfind(".//p:CdtTrfTxInf", ns):
            if tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) not in end_to_end_ids:
                continue
            for tag in ("p:CdtrAcct", "p:CdtrAgt"):
                for element in tx.iterfind(f"{tag}//*", ns):
                    if element.text and element.text.strip():
                        element.text = REDACTED
        content = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    for secret in sorted(filter(None, secrets_), key=len, reverse=True):
        content = content.replace(secret.encode(), REDACTED.encode())
    return content


def _overwrite(path: Path, content: bytes) -> None:
    """Write over the file in place (not a new file beside it), so the old bytes are not
    simply left in a freed inode; owner-only."""
    with path.open("r+b") as out:
        out.write(content)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o600)


def _shred_file(path: Path) -> None:
    """Overwrite the file with zeros in place, then unlink it: unlinking alone leaves its bytes
    (accounts, a personkonto) in the inode for any other link, and in freed blocks."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    _overwrite(path, b"\0" * size)
    path.unlink(missing_ok=True)


def payout_folder_problem(payee_ids: list[int]) -> str | None:
    """Why erasure must wait: files paid these person payees but ``PAYOUT_FILES_DIR`` is not
    there to redact them (not mounted, or another host's settings). Erasure destroys the key
    that finds the account, so a file it cannot see would keep the personkonto for good."""
    folder = Path(settings.PAYOUT_FILES_DIR)
    if folder.is_dir():
        return None
    paid = PaymentBatch.objects.filter(
        pk__in=_batches_paying(
            list(
                Payee.objects.filter(pk__in=payee_ids, kind=PayeeKind.PERSON).values_list(
                    "pk", flat=True
                )
            )
        )
    )
    if not paid.exists():
        return None
    return _(
        "The payout folder %(folder)s (setting PAYOUT_FILES_DIR) does not exist here, but bank "
        "files paid this person's own account: mount the folder or run the erasure where it is, "
        "so the files can be redacted before the key is destroyed."
    ) % {"folder": folder}


def redact_payee_from_bank_files(payee: Payee) -> list[str]:
    """Redact a person payee's account, and the nonce of each file that paid it, from every
    file in ``PAYOUT_FILES_DIR``; returns the redacted files' names (message ids), for the
    erasure's audit event.

    Runs at erasure while the payee's key and the batches' nonces still exist (they are
    needed to find left overs); :func:`destroy_file_nonces` runs after it. The ledger and the
    batches keep only references; the bank keeps its own copy.
    """
    folder = Path(settings.PAYOUT_FILES_DIR)
    if payee.kind != PayeeKind.PERSON or not folder.is_dir():
        return []
    try:
        where = payee.destination()
    except (ValidationFailed, DecryptionFailed):
        where = None
    secrets_ = [where.clearing_number + where.account, where.account] if where else []
    secrets_ += _file_nonces(
        PaymentBatch.objects.filter(pk__in=_batches_paying([payee.pk]))
        .exclude(wrapped_file_nonce="")
        .values_list("wrapped_file_nonce", flat=True)
    )
    ids = {
        f"PO-{pk}" for pk in PaymentOrder.objects.filter(payee=payee).values_list("pk", flat=True)
    }
    named = {
        f"{message_id}.xml"
        for message_id in PaymentBatch.objects.filter(orders__payee=payee).values_list(
            "message_id", flat=True
        )
    }
    redacted: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        content = path.read_bytes()
        if path.name not in named and not any(s.encode() in content for s in secrets_):
            continue
        if path.name.startswith("."):  # a worker's unfinished temporary file
            path.unlink()
            redacted.append(path.name)
            continue
        cleaned = _redacted_bank_file(content, ids, secrets_)
        if cleaned != content:
            _overwrite(path, cleaned)
            redacted.append(path.name.removesuffix(".xml"))
    return redacted


def _file_nonces(wrapped: Any) -> list[str]:
    """The nonces to look for in the files; one the master keys cannot open is skipped (the
    file is still redacted by its transfers)."""
    nonces: list[str] = []
    for value in wrapped:
        try:
            nonces.append(unwrap_with_master_keys(value))
        except DecryptionFailed:
            continue
    return nonces


def _batches_paying(payee_ids: list[int]) -> Any:
    """The batches whose exported file carried an order to one of these payees."""
    return PaymentOrder.objects.filter(
        payee_id__in=payee_ids, batch__isnull=False, in_file=True
    ).values("batch_id")


def forget_legacy_file_digests(payee_ids: list[int]) -> int:
    """At erasure: blank the stored digest of every file without a nonce (exported before
    migration accounting 0011) that paid these payees; returns how many.

    Such a file can be rebuilt from the database alone, so its digest gives the account back
    by trying candidates (3300 + a personnummer). The file is never produced again (its payee
    is erased); the digest in the permanent ``payout.batch_exported`` and ``batch_sent``
    events stays (see docs/privacy.md, "Residual data"). Run before :func:`destroy_file_nonces`.
    """
    return (
        PaymentBatch.objects.filter(pk__in=_batches_paying(payee_ids), wrapped_file_nonce="")
        .exclude(file_sha256="")
        .update(file_sha256="")
    )


def redact_erased_payees_from_bank_file(batch: PaymentBatch, *, actor: Any = None) -> list[int]:
    """Redact, without any key, the accounts of erased person payees from this batch's file in
    ``PAYOUT_FILES_DIR``, and the file's nonce; returns the redacted orders' ids.

    For a file erasure did not see (another host's folder, a file restored from a backup):
    the transfers are found by their end-to-end ids (``PO-<order>``), which the ledger keeps,
    so the erased key is not needed. Text outside those elements is not searched (that needs
    the account, which is gone).
    """
    with transaction.atomic():
        batch = _locked_batch(batch)
        orders = sorted(
            PaymentOrder.objects.filter(
                batch=batch,
                payee__kind=PayeeKind.PERSON,
                payee__beneficiary__erased_at__isnull=False,
            ).values_list("pk", flat=True)
        )
        folder = Path(settings.PAYOUT_FILES_DIR)
        if not folder.is_dir():
            raise ValidationFailed(
                _("The payout folder %(folder)s (setting PAYOUT_FILES_DIR) does not exist here.")
                % {"folder": folder}
            )
        path = folder / f"{batch.message_id}.xml"
        for leftover in folder.glob(f".{batch.message_id}.xml.*"):  # a worker's temporary file
            _shred_file(leftover)
        if not orders or not path.is_file():
            return []
        content = path.read_bytes()
        cleaned = _redacted_bank_file(content, {f"PO-{pk}" for pk in orders}, [])
        if cleaned == content:
            return []
        _overwrite(path, cleaned)
        record_event(
            action="payout.bank_file_redacted",
            actor=actor,
            role=Role.ADMINISTRATOR if actor is not None else "",
            object_type="payment_batch",
            object_ref=batch.message_id,
            payload={"batch": batch.pk, "orders": orders},
        )
    return orders


def destroy_file_nonces(payee_ids: list[int]) -> int:
    """At erasure: blank the nonce of every file that paid these payees; returns how many.

    Without the nonce the stored digest can no longer be recomputed for candidate accounts;
    the file is never produced again anyway (its payee is erased).
    """
    return (
        PaymentBatch.objects.filter(pk__in=_batches_paying(payee_ids))
        .exclude(wrapped_file_nonce="")
        .update(wrapped_file_nonce="")
    )
