"""Payout steps: schedule, confirm, failure, withdrawal and giving up the payout."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.exceptions import (
    ValidationFailed,
)
from workflows import step_hooks, step_inputs
from workflows.models import (
    ClosingReason,
    DecisionStatus,
    GiveUpReason,
)
from workflows.services.base import Step, _choice, _effective_decision, _fire
from workflows.step_hooks import (
    GrantReleased,
    PayoutConfirmed,
    PayoutFailed,
    PayoutScheduled,
)


def _schedule_payout(step: Step[step_inputs.SchedulePayout]) -> None:
    decision = _effective_decision(step.application)
    if decision is None or not decision.total_approved.amount:
        raise ValidationFailed(_("There is no approved amount to pay out."))
    booked = step_hooks.run(
        PayoutScheduled(
            step.application,
            step.actor,
            payee=step.data.payee,
            payees=step.data.payees,
        )
    )
    _fire(step, total=decision.total_approved.amount, **booked)


def _confirm_paid(step: Step[step_inputs.ConfirmPaid]) -> None:
    step_hooks.run(PayoutConfirmed(step.application, step.actor))
    _fire(step)


class PayoutFailure:
    """Why the bank did not pay; codes only (the bank's own text stays with the bank file)."""

    values = ("account_closed", "wrong_account", "rejected_by_bank", "other")


def _payout_failed(step: Step[step_inputs.PayoutFailed]) -> None:
    reason = _choice(step.data.reason, PayoutFailure, _("Choose why the payout failed."))
    step_hooks.run(
        PayoutFailed(
            step.application,
            step.actor,
            reason,
            already=step.data.payment_orders,
        )
    )
    _fire(step, reason=reason)


def _withdraw(step: Step[step_inputs.Withdraw]) -> None:
    reason = _choice(step.data.reason, ClosingReason, _("Choose why the application is withdrawn."))
    app = step.application
    problems = step_hooks.problems(app, step.name)
    if problems:
        raise ValidationFailed(problems)
    app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).update(
        status=DecisionStatus.SUPERSEDED
    )
    step_hooks.run(GrantReleased(app, step.actor, reason="withdrawn", role=step.role))
    _fire(step, reason=reason)


def _give_up_payout(step: Step[step_inputs.GiveUpPayout]) -> None:
    """End an approved case whose remaining items will not be paid: what was paid stays paid,
    the rest is released (its cost and liability reversed) and the case is closed, not
    withdrawn, because the decision stood and money may have reached the payee."""
    reason = _choice(step.data.reason, GiveUpReason, _("Choose why the payout is given up."))
    app = step.application
    problems = step_hooks.problems(app, step.name)
    if problems:
        raise ValidationFailed(problems)
    released = step_hooks.run(
        GrantReleased(app, step.actor, reason="payout_given_up", role=step.role)
    )
    _fire(step, reason=reason, **released)
