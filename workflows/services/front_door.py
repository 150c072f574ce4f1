"""The front door: :func:`transition` runs a named step with its checks and effects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django_fsm import can_proceed

from core.exceptions import (
    PermissionDenied,
    TransitionNotAvailable,
)
from fund.lifecycle import acting_role
from fund.models import (
    Application,
)
from fund.states import State
from workflows.segregation import segregation_problems
from workflows.services.assessment import _clear, _close, _refer, _start_statutory_check
from workflows.services.base import Step, _locked
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


@sensitive_variables()
def transition(application: Application, name: str, *, actor: Any, **data: Any) -> Application:
    """Run transition ``name`` for ``actor``: permission, guards, effects and audit, atomically.

    Returns the application as saved. Raises ``PermissionDenied``, ``ConflictError``,
    ``ValidationFailed`` or ``TransitionNotAvailable`` with messages for people.
    """
    handler = HANDLERS.get(name)
    if handler is None:
        raise TransitionNotAvailable(_("There is no step called “%(name)s”.") % {"name": name})
    with transaction.atomic():
        current = _locked(application)
        if not can_proceed(getattr(current, name), check_conditions=False):
            raise TransitionNotAvailable(
                _("“%(name)s” is not possible while the application is “%(state)s”.")
                % {"name": name, "state": State(current.state).label}
            )
        role = acting_role(actor, current, name)
        if role is None:
            raise PermissionDenied(
                _("You may not run “%(name)s” on %(ref)s.")
                % {"name": name, "ref": current.reference}
            )
        problems = segregation_problems(current, name, actor=actor)
        if problems:
            raise PermissionDenied(problems)
        handler(Step(current, name, actor, role, data))
    return current


HANDLERS: dict[str, Callable[[Step], None]] = {
    "submit": _submit,
    "request_attestation": _request_attestation,
    "attest": _attest,
    "decline_attestation": _decline_attestation,
    "start_statutory_check": _start_statutory_check,
    "refer": _refer,
    "clear": _clear,
    "approve": _decide,
    "approve_partly": _decide,
    "reject": _decide,
    "schedule_payout": _schedule_payout,
    "confirm_paid": _confirm_paid,
    "payout_failed": _payout_failed,
    "close": _close,
    "request_completion": _request_completion,
    "resubmit": _resubmit,
    "reconsider": _reconsider,
    "withdraw": _withdraw,
    "give_up_payout": _give_up_payout,
}
