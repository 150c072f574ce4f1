"""A payment batch's life: created, approved by a second treasurer, its pain.001 file exported
and sent, or cancelled before export, or its exported file declared void.

A treasurer puts scheduled orders in a ``PaymentBatch``; a *different* treasurer, who signed no
decision in the batch, registered none of its payees and scheduled none of its orders, approves it
(and every payee needs a second treasurer's approval before anything is scheduled to it, see
``payees.approve_payee``); the pain.001 file is exported (validated against the XSD first) and the
batch marked sent.

What may go into a file: only orders still payable (scheduled). Once a batch's file is exported
its orders are ``in_file``: the bank may pay them, so they fail only by the bank's word (pain.002,
camt.054) or when a second treasurer declares the whole file void ("the bank did not receive
it"), which cancels its orders and schedules replacements with new end-to-end ids. An exported
batch is never cancelled, so no commitment is ever in two files the bank may pay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounting import pain001
from accounting.ledger import (
    ZERO,
)
from accounting.models import (
    BatchStatus,
    OrderStatus,
    Payee,
    PaymentBatch,
    PaymentOrder,
)
from accounting.payees import payee_problems
from accounting.payouts.access import require_treasurer
from accounting.payouts.redaction import shred_file
from accounting.payouts.settlement import locked_orders
from audit.models import AuditEvent
from audit.services import record_event
from core.crypto import wrap_with_master_keys
from core.exceptions import ConflictError, PermissionDenied, ValidationFailed
from core.roles import Role
from fund.models import Application
from workflows.models import DecisionSignature


def create_batch(
    *,
    actor: Any,
    orders: Iterable[PaymentOrder] | None = None,
    applications: Iterable[Application] | None = None,
    execution_date: dt.date | None = None,
) -> PaymentBatch:
    """Put scheduled orders not yet in a batch into a new batch (all, or those named).

    The requested execution date is today or later, as the foundation counts days
    (``TIME_ZONE``, Europe/Stockholm): a bank would reject a date in the past, or pay at once
    without the date the treasurers agreed on.
    """
    require_treasurer(actor=actor)
    today = timezone.localdate()
    if execution_date is not None and execution_date < today:
        raise ValidationFailed(
            _(
                "The execution date %(date)s is in the past; choose today (%(today)s) or a "
                "later day."
            )
            % {"date": execution_date.isoformat(), "today": today.isoformat()}
        )
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
            _refuse_empty_batch(orders, applications)
        payees = Payee.objects.filter(pk__in={o.payee_id for o in locked})
        problems = sorted({p for payee in payees for p in payee_problems(payee)})
        if problems:
            raise ValidationFailed(problems)
        now = timezone.now()
        batch = PaymentBatch.objects.create(
            message_id=f"FF-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4).upper()}",
            execution_date=execution_date or today,
            created_by=actor,
            created_at=now,
        )
        ids = [o.pk for o in locked]
        updated = PaymentOrder.objects.filter(
            pk__in=ids, batch__isnull=True, status=OrderStatus.SCHEDULED
        ).update(batch=batch)
        if updated != len(locked):
            raise ConflictError(_("Some orders were batched meanwhile; reload and try again."))
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


def _refuse_empty_batch(
    orders: Iterable[PaymentOrder] | None, applications: Iterable[Application] | None
) -> None:
    """No free order among those asked for. When the named ones are scheduled but already in a
    batch, another treasurer batched them first (409, whether before or after this request
    took its locks); otherwise there was nothing to batch from the start (400)."""
    named = PaymentOrder.objects.filter(status=OrderStatus.SCHEDULED, batch__isnull=False)
    if orders is not None or applications is not None:
        if orders is not None:
            named = named.filter(pk__in=[o.pk for o in orders])
        if applications is not None:
            named = named.filter(application__in=list(applications))
        taken = named.select_related("batch").order_by("pk").first()
        if taken is not None and taken.batch is not None:
            raise ConflictError(
                _("These payment orders are already in batch %(batch)s. Reload the batches.")
                % {"batch": taken.batch.message_id}
            )
    raise ValidationFailed(_("There are no scheduled payment orders to put in a batch."))


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


def approve_batch(batch: PaymentBatch, *, actor: Any) -> PaymentBatch:
    """A second treasurer approves the batch: not whoever created it, decided a case in it,
    registered a payee it pays or scheduled one of its orders (no one pays where they chose).
    """
    require_treasurer(actor=actor)
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
        if batch.status != BatchStatus.DRAFT:
            # Whoever asks now saw a draft that someone else approved, cancelled or voided
            # first: a lost race, the same answer however the requests interleaved.
            raise ConflictError(
                _(
                    "Batch %(batch)s is no longer a draft awaiting approval (now: %(status)s). "
                    "Reload it."
                )
                % {"batch": batch.message_id, "status": BatchStatus(batch.status).label}
            )
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


def export_batch(batch: PaymentBatch, *, actor: Any) -> bytes:
    """The batch's pain.001 file, validated against the XSD; the same bytes every time."""
    require_treasurer(actor=actor)
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


def mark_sent(batch: PaymentBatch, *, actor: Any, by_bank_file: bool = False) -> PaymentBatch:
    """The file went to the bank (said by a treasurer, or shown by the bank answering it)."""
    require_treasurer(actor=actor)
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


def cancel_batch(batch: PaymentBatch, *, actor: Any) -> PaymentBatch:
    """Undo a batch whose file was never exported: its orders are free to be batched again."""
    require_treasurer(actor=actor)
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


def void_batch_file(batch: PaymentBatch, *, actor: Any) -> PaymentBatch:
    """A second treasurer declares that the bank did not receive this exported file.

    Its message id is void from then on; its unpaid orders are cancelled and replaced by new
    orders (new end-to-end ids) for the same items, to be batched into a new file. Should the
    bank pay the void file after all, the payment becomes a bank exception, never a second
    silent payment.
    """
    require_treasurer(actor=actor)
    with transaction.atomic():
        batch = _locked_batch(batch)
        if batch.status == BatchStatus.VOIDED:
            return batch
        if batch.exported_at is None:
            raise ValidationFailed(
                _("This batch's file was never exported: cancel the batch instead.")
            )
        if batch.bank_acknowledged_at is not None:
            raise ValidationFailed(
                _(
                    "The bank has answered for this file (%(when)s), so it has it: the file "
                    "cannot be declared void. Wait for the bank's answer on each payment, or "
                    "ask the bank to stop the file."
                )
                % {"when": formats.date_format(timezone.localtime(batch.bank_acknowledged_at))}
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
        transaction.on_commit(lambda: shred_file(void_file))  # never uploaded again
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
