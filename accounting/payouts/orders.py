"""Payment orders from the workflow: created when a case's payout is scheduled, settled or
failed when the case is confirmed paid or its payout failed without naming orders.

``schedule_orders`` creates one ``PaymentOrder`` per approved, committed need item, to the payee
chosen per item (``payees={item_id: payee_id}``), to one payee for all (``payee=payee_id``), or by
default to the single active payee of the ombud's organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.models import (
    Commitment,
    CommitmentStatus,
    OrderStatus,
    Payee,
    PayeeKind,
    PaymentOrder,
)
from accounting.payees import default_payee, payee_problems
from accounting.payouts.settlement import fail_locked_order, locked_orders, pay_locked_orders
from audit.services import record_event
from core.exceptions import ValidationFailed
from core.inputs import as_id, shown
from core.roles import Role
from fund.models import Application


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
    *,
    actor: Any,
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


def settle_for_confirmation(application: Application, *, actor: Any) -> None:
    """Before a case is confirmed paid: pay its orders the bank was sent; refuse otherwise.

    The case is locked (the transition holds it), so its orders cannot become scheduled
    meanwhile: they are locked only when there are any left to pay.
    """
    scheduled = list(
        PaymentOrder.objects.filter(
            application=application, status=OrderStatus.SCHEDULED
        ).values_list("pk", flat=True)
    )
    if scheduled:
        pay_locked_orders(locked_orders(PaymentOrder.objects.filter(pk__in=scheduled)), actor=actor)
    unpaid = Commitment.objects.filter(application=application, status=CommitmentStatus.OPEN)
    if unpaid.exists():
        raise ValidationFailed(
            _("%(ref)s still has approved items that are not paid.")
            % {"ref": application.reference}
        )


def fail_open_orders(
    application: Application, *, actor: Any, reason: str, already: Iterable[int] = ()
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
        fail_locked_order(order, actor=actor, code="", reason=reason)
