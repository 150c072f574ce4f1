"""The accounting side of the case workflow: what the ledger does at each step.

Registered with :mod:`workflows.step_hooks` at start-up (``accounting.apps``) and run inside
the step's transaction, so the ledger, the commitments and the payment orders change together
with the case's state, or not at all.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounting.commitments import commit_decision, release_commitments
from accounting.models import ACTIVE_ORDER_STATUSES, OrderStatus, PaymentOrder
from accounting.payouts.orders import fail_open_orders, schedule_orders, settle_for_confirmation
from core.exceptions import ValidationFailed
from workflows import step_hooks
from workflows.step_hooks import (
    DecisionTookEffect,
    GrantReleased,
    PayoutConfirmed,
    PayoutFailed,
    PayoutScheduled,
)


def subscribe() -> None:
    """The ledger acts at every step that obliges or moves money."""
    step_hooks.on(DecisionTookEffect, on_decision_effective)
    step_hooks.on(PayoutScheduled, on_payout_scheduled)
    step_hooks.on(PayoutConfirmed, on_confirm_paid)
    step_hooks.on(PayoutFailed, on_payout_failed)
    step_hooks.on(GrantReleased, on_released)
    step_hooks.guard("withdraw", withdrawal_problems)
    step_hooks.guard("give_up_payout", payout_give_up_problems)


def on_decision_effective(event: DecisionTookEffect) -> None:
    """Commit the approved items; ``ValidationFailed`` if the fund cannot cover them."""
    commit_decision(event.decision, actor=event.actor)


def on_released(event: GrantReleased) -> dict[str, Any]:
    """Withdrawal, reconsideration or a payout given up: the case's open commitments are
    released, and the grant booked for them is reversed (2890 debit, 6710 credit)."""
    application = event.application
    release_commitments(application, actor=event.actor, reason=event.reason, role=event.role)
    if event.reason == "payout_given_up":
        return {"paid_orders": paid_order_ids(application)}
    return {}


def on_payout_scheduled(event: PayoutScheduled) -> dict[str, Any]:
    """Create the payment orders; their ids go into the audit event."""
    orders = schedule_orders(
        event.application, actor=event.actor, payees=event.payees, payee=event.payee
    )
    return {"payment_orders": [order.pk for order in orders]}


def on_confirm_paid(event: PayoutConfirmed) -> None:
    settle_for_confirmation(event.application, actor=event.actor)


def withdrawal_problems(application: Any) -> list[str]:
    """A case with money at the bank or paid out cannot be withdrawn (its commitments hold)."""
    orders = PaymentOrder.objects.filter(application=application, status__in=ACTIVE_ORDER_STATUSES)
    first = orders.order_by("pk").first()
    if first is None:
        return []
    if orders.filter(status=OrderStatus.PAID).exists():
        return [
            _(
                "%(ref)s has been paid out in part or in full, so it can no longer be withdrawn; "
                "what is left unpaid can be given up by an officer."
            )
            % {"ref": application.reference}
        ]
    return [
        _(
            "%(ref)s has a payment scheduled (PO-%(id)s): it can be withdrawn only after the "
            "payout failed or its file was declared void."
        )
        % {"ref": application.reference, "id": first.pk}
    ]


def paid_order_ids(application: Any) -> list[int]:
    """The case's orders booked as paid (for the audit event of a payout given up)."""
    orders = PaymentOrder.objects.filter(application=application, status=OrderStatus.PAID)
    return list(orders.order_by("pk").values_list("pk", flat=True))


def payout_give_up_problems(application: Any) -> list[str]:
    """Why the payout of an approved case cannot be given up now.

    Not while an order may still be paid (the bank's answer decides it). Not before any
    payout was tried: then nothing has moved, and the application is withdrawn instead.
    """
    orders = PaymentOrder.objects.filter(application=application)
    waiting = orders.filter(status=OrderStatus.SCHEDULED).order_by("pk").first()
    if waiting is not None:
        return [
            _(
                "%(ref)s has a payment order waiting for the bank (PO-%(id)s): wait for the "
                "bank's answer before giving up the payout."
            )
            % {"ref": application.reference, "id": waiting.pk}
        ]
    if not orders.filter(status__in=(OrderStatus.PAID, OrderStatus.FAILED)).exists():
        return [
            _(
                "No payout of %(ref)s has been paid or has failed yet: withdraw the application "
                "instead, or schedule the payout."
            )
            % {"ref": application.reference}
        ]
    return []


def on_payout_failed(event: PayoutFailed) -> None:
    application = event.application
    fail_open_orders(application, actor=event.actor, reason=event.reason, already=event.already)
    if PaymentOrder.objects.filter(application=application, status=OrderStatus.SCHEDULED).exists():
        raise ValidationFailed(
            _("%(ref)s still has a payment order waiting for the bank.")
            % {"ref": application.reference}
        )
