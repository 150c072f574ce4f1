"""The application state machine (django-fsm-2), declared on an abstract model.

Transition methods are deliberately empty: who may run them is the ``permission`` callable
(role plus case scope), the state-only preconditions are ``conditions``; everything with a
message for people (guards, segregation of duties, fund rules) and every effect lives in
:mod:`workflows.services`, which is the only caller of these methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from core.roles import Role
from fund.case_scope import may_act_as
from fund.states import COMPLETION_STATES, WITHDRAWABLE_STATES, State

#: Which roles may run each transition. The first role listed is the one the audit records
#: when the actor has several.
TRANSITION_ROLES: dict[str, tuple[str, ...]] = {
    "submit": (Role.OMBUD, Role.OFFICER),
    "request_attestation": (Role.OFFICER,),
    "attest": (Role.OMBUD,),
    "decline_attestation": (Role.OMBUD,),
    "start_statutory_check": (Role.OFFICER,),
    "refer": (Role.OFFICER,),
    "clear": (Role.OFFICER,),
    "approve": (Role.DECISION_MAKER,),
    "approve_partly": (Role.DECISION_MAKER,),
    "reject": (Role.DECISION_MAKER,),
    "schedule_payout": (Role.TREASURER,),
    "confirm_paid": (Role.TREASURER,),
    "payout_failed": (Role.TREASURER,),
    "close": (Role.OFFICER,),
    "request_completion": (Role.OFFICER,),
    "resubmit": (Role.OMBUD, Role.OFFICER),
    "reconsider": (Role.DECISION_MAKER,),
    "withdraw": (Role.OMBUD, Role.OFFICER),
    # Not the ombud: once money has moved, ending the payout is the foundation's call.
    "give_up_payout": (Role.OFFICER,),
}


def acting_role(user: Any, application: Any, name: str) -> str | None:
    """The role in which ``user`` may run transition ``name`` on this case, if any."""
    for role in TRANSITION_ROLES[name]:
        if may_act_as(user, role, application):
            return str(role)
    return None


def allowed_for(name: str) -> Callable[[Any, Any], bool]:
    def permission(instance: Any, user: Any) -> bool:
        return acting_role(user, instance, name) is not None

    permission.__name__ = f"may_{name}"
    return permission


class ApplicationWorkflow(ConcurrentTransitionMixin, models.Model):
    """The state and its transitions; the concrete model is ``fund.Application``."""

    state = FSMField(
        _("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True
    )
    #: Where ``resubmit`` returns to after komplettering.
    completion_return_state = models.CharField(
        max_length=32, choices=State.choices, blank=True, default=""
    )

    class Meta:
        abstract = True

    @transition(state, State.DRAFT, State.SUBMITTED, permission=allowed_for("submit"))
    def submit(self) -> None:
        pass

    @transition(
        state,
        State.SUBMITTED,
        State.AWAITING_OMBUD,
        permission=allowed_for("request_attestation"),
    )
    def request_attestation(self) -> None:
        pass

    @transition(state, State.AWAITING_OMBUD, State.OMBUD_VERIFIED, permission=allowed_for("attest"))
    def attest(self) -> None:
        pass

    @transition(
        state,
        State.AWAITING_OMBUD,
        State.REJECTED,
        permission=allowed_for("decline_attestation"),
    )
    def decline_attestation(self) -> None:
        pass

    @transition(
        state,
        State.OMBUD_VERIFIED,
        State.STATUTORY_CHECK,
        permission=allowed_for("start_statutory_check"),
    )
    def start_statutory_check(self) -> None:
        pass

    @transition(state, State.STATUTORY_CHECK, State.REFERRED, permission=allowed_for("refer"))
    def refer(self) -> None:
        pass

    @transition(
        state, State.STATUTORY_CHECK, State.READY_FOR_DECISION, permission=allowed_for("clear")
    )
    def clear(self) -> None:
        pass

    @transition(state, State.READY_FOR_DECISION, State.APPROVED, permission=allowed_for("approve"))
    def approve(self) -> None:
        pass

    @transition(
        state,
        State.READY_FOR_DECISION,
        State.APPROVED,
        permission=allowed_for("approve_partly"),
    )
    def approve_partly(self) -> None:
        pass

    @transition(state, State.READY_FOR_DECISION, State.REJECTED, permission=allowed_for("reject"))
    def reject(self) -> None:
        pass

    @transition(
        state,
        State.APPROVED,
        State.PAYOUT_SCHEDULED,
        permission=allowed_for("schedule_payout"),
    )
    def schedule_payout(self) -> None:
        pass

    @transition(state, State.PAYOUT_SCHEDULED, State.PAID, permission=allowed_for("confirm_paid"))
    def confirm_paid(self) -> None:
        pass

    @transition(
        state,
        State.PAYOUT_SCHEDULED,
        State.APPROVED,
        permission=allowed_for("payout_failed"),
    )
    def payout_failed(self) -> None:
        pass

    @transition(state, State.PAID, State.CLOSED, permission=allowed_for("close"))
    def close(self) -> None:
        pass

    @transition(
        state,
        list(COMPLETION_STATES),
        State.NEEDS_COMPLETION,
        permission=allowed_for("request_completion"),
    )
    def request_completion(self) -> None:
        self.completion_return_state = self.state

    @transition(
        state,
        State.NEEDS_COMPLETION,
        RETURN_VALUE(*COMPLETION_STATES),
        permission=allowed_for("resubmit"),
    )
    def resubmit(self) -> str:
        target = self.completion_return_state
        self.completion_return_state = ""
        return target

    @transition(
        state,
        State.REJECTED,
        State.READY_FOR_DECISION,
        permission=allowed_for("reconsider"),
    )
    def reconsider(self) -> None:
        pass

    @transition(
        state, list(WITHDRAWABLE_STATES), State.WITHDRAWN, permission=allowed_for("withdraw")
    )
    def withdraw(self) -> None:
        pass

    @transition(state, State.APPROVED, State.CLOSED, permission=allowed_for("give_up_payout"))
    def give_up_payout(self) -> None:
        pass
