"""The front door: :func:`transition` runs a named step with its checks and effects."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django_fsm import can_proceed

from audit.models import AuditEvent
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    TransitionNotAvailable,
)
from fund.case_scope import scope_read_once
from fund.lifecycle import acting_role
from fund.models import (
    Application,
)
from fund.states import State
from workflows import step_inputs
from workflows.segregation import segregation_problems
from workflows.services.assessment import _clear, _close, _refer, _start_statutory_check
from workflows.services.base import Step, StepHandler, _locked
from workflows.services.decisions import _decide, _reconsider
from workflows.services.intake import (
    _attest,
    _decline_attestation,
    _request_attestation,
    _request_completion,
    _resubmit,
    _submit,
)
from workflows.services.payout import (
    _confirm_paid,
    _give_up_payout,
    _payout_failed,
    _schedule_payout,
    _withdraw,
)
from workflows.step_labels import step_label


@sensitive_variables()
def transition(application: Application, *, actor: Any, step: step_inputs.StepInput) -> Application:
    """Run ``step`` for ``actor``: permission, guards, effects and audit, atomically.

    ``step`` is the step's typed input (:mod:`workflows.step_inputs`); it names its step. An
    edge that receives a step by name builds it with :func:`workflows.step_inputs.parse`.

    Returns the application as saved. Raises ``PermissionDenied``, ``ConflictError``,
    ``ValidationFailed`` or ``TransitionNotAvailable`` with messages for people.
    """
    name = step.name
    handler = HANDLERS.get(name)
    if handler is None:
        raise TransitionNotAvailable(_("There is no step called “%(name)s”.") % {"name": name})
    with transaction.atomic(), scope_read_once(actor):
        current = _locked(application)
        if not can_proceed(getattr(current, name), check_conditions=False):
            if _possible_before(current, name):
                raise ConflictError(
                    _(
                        "%(ref)s changed while you were working on it (now: %(state)s), so "
                        "“%(name)s” is no longer possible. Reload it and decide again."
                    )
                    % {
                        "ref": current.reference,
                        "state": State(current.state).label,
                        "name": step_label(name),
                    }
                )
            raise TransitionNotAvailable(
                _("“%(name)s” is not possible while the application is “%(state)s”.")
                % {"name": step_label(name), "state": State(current.state).label}
            )
        role = acting_role(actor, current, name)
        if role is None:
            raise PermissionDenied(
                _("You may not run “%(name)s” on %(ref)s.")
                % {"name": step_label(name), "ref": current.reference}
            )
        problems = segregation_problems(current, name, actor=actor)
        if problems:
            raise PermissionDenied(problems)
        handler(Step(current, name, actor, role, step))
    return current


def _possible_before(current: Application, name: str) -> bool:
    """Whether step ``name`` was possible in the state the case left for its current one.

    Then a caller who asks for it now lost a race (or sent the same step twice): someone
    moved the case on after the caller saw it, which is a conflict (409) whether the request
    arrived before the winner committed or after. A step that was not possible there either
    was wrong from the start (400).
    """
    last = (
        AuditEvent.objects.filter(
            object_type="application",
            object_ref=current.reference,
            action__startswith="application.",
            payload__to=current.state,
        )
        .order_by("-sequence")
        .values_list("payload", flat=True)
        .first()
    )
    source = last.get("from") if isinstance(last, dict) else None
    if not source or source == current.state:
        return False
    before = Application(pk=current.pk, state=source)
    return can_proceed(getattr(before, name), check_conditions=False)


#: Each step's handler, with the input type it takes (mypy checks each pair).
HANDLERS: dict[str, StepHandler] = {
    "submit": StepHandler(step_inputs.Submit, _submit),
    "request_attestation": StepHandler(step_inputs.RequestAttestation, _request_attestation),
    "attest": StepHandler(step_inputs.Attest, _attest),
    "decline_attestation": StepHandler(step_inputs.DeclineAttestation, _decline_attestation),
    "start_statutory_check": StepHandler(step_inputs.StartStatutoryCheck, _start_statutory_check),
    "refer": StepHandler(step_inputs.Refer, _refer),
    "clear": StepHandler(step_inputs.Clear, _clear),
    "approve": StepHandler(step_inputs.Decide, _decide),
    "approve_partly": StepHandler(step_inputs.Decide, _decide),
    "reject": StepHandler(step_inputs.Decide, _decide),
    "schedule_payout": StepHandler(step_inputs.SchedulePayout, _schedule_payout),
    "confirm_paid": StepHandler(step_inputs.ConfirmPaid, _confirm_paid),
    "payout_failed": StepHandler(step_inputs.PayoutFailed, _payout_failed),
    "close": StepHandler(step_inputs.Close, _close),
    "request_completion": StepHandler(step_inputs.RequestCompletion, _request_completion),
    "resubmit": StepHandler(step_inputs.Resubmit, _resubmit),
    "reconsider": StepHandler(step_inputs.Reconsider, _reconsider),
    "withdraw": StepHandler(step_inputs.Withdraw, _withdraw),
    "give_up_payout": StepHandler(step_inputs.GiveUpPayout, _give_up_payout),
}
