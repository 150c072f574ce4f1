"""The accounting side of the case workflow, and the services' public names.

``workflows.services`` calls the ``on_*`` hooks inside the transition's transaction, so the
ledger, the commitments and the payment orders change together with the case's state (or
not at all). The actual work lives in ``ledger``, ``commitments``, ``payees`` and
``payouts``; this module only connects the workflow's steps to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from accounting.commitments import (
    available,
    commit_decision,
    lock_fund,
    release_commitments,
    set_budget,
    set_ceiling,
)
from accounting.ledger import (
    close_period,
    fiscal_year_for,
    fund_balance,
    post_voucher,
    record_income,
    reverse_voucher,
    trial_balance,
)
from accounting.models import ACTIVE_ORDER_STATUSES, OrderStatus, PaymentOrder
from accounting.payees import approve_payee, create_payee, validate_account
from accounting.payouts.batches import (
    approve_batch,
    cancel_batch,
    create_batch,
    export_batch,
    mark_sent,
    void_batch_file,
)
from accounting.payouts.orders import fail_open_orders, schedule_orders, settle_for_confirmation
from accounting.payouts.settlement import confirm_batch_paid, confirm_paid, reject_orders
from workflows.exceptions import ValidationFailed

__all__ = [
    "approve_batch",
    "approve_payee",
    "available",
    "cancel_batch",
    "close_period",
    "commit_decision",
    "confirm_batch_paid",
    "confirm_paid",
    "create_batch",
    "create_payee",
    "export_batch",
    "fiscal_year_for",
    "fund_balance",
    "lock_fund",
    "mark_sent",
    "on_confirm_paid",
    "on_decision_effective",
    "on_payout_failed",
    "on_payout_scheduled",
    "on_released",
    "paid_order_ids",
    "payout_give_up_problems",
    "post_voucher",
    "record_income",
    "reject_orders",
    "release_commitments",
    "reverse_voucher",
    "set_budget",
    "set_ceiling",
    "trial_balance",
    "validate_account",
    "void_batch_file",
    "withdrawal_problems",
]


def on_decision_effective(decision: Any, actor: Any) -> None:
    """Commit the approved items; ``ValidationFailed`` if the fund cannot cover them."""
    commit_decision(decision, actor)


def on_released(application: Any, actor: Any, *, reason: str, role: str) -> None:
    """Withdrawal, reconsideration or a payout given up: the case's open commitments are
    released, and the grant booked for them is reversed (2890 debit, 6710 credit)."""
    release_commitments(application, actor, reason=reason, role=role)


def on_payout_scheduled(application: Any, actor: Any, data: Mapping[str, Any]) -> list[int]:
    """Create the payment orders; returns their ids for the audit event."""
    orders = schedule_orders(application, actor, payees=data.get("payees"), payee=data.get("payee"))
    return [order.pk for order in orders]


def on_confirm_paid(application: Any, actor: Any) -> None:
    settle_for_confirmation(application, actor)


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


def on_payout_failed(application: Any, actor: Any, data: Mapping[str, Any], reason: str) -> None:
    fail_open_orders(application, actor, reason=reason, already=data.get("payment_orders") or ())
    if PaymentOrder.objects.filter(application=application, status=OrderStatus.SCHEDULED).exists():
        raise ValidationFailed(
            _("%(ref)s still has a payment order waiting for the bank.")
            % {"ref": application.reference}
        )
