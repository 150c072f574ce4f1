"""Reads about cases for pages and the API: which steps a user may run now."""

from __future__ import annotations

from typing import Any

from django_fsm import can_proceed

from fund.case_scope import scope_read_once
from fund.lifecycle import TRANSITION_ROLES, acting_role
from fund.models import Application
from workflows import step_hooks
from workflows.segregation import segregated_steps


def available_transitions(application: Application, *, actor: Any) -> list[str]:
    """The transitions this user may run on this case now (for buttons and the API).

    Cheapest first, so the cost does not grow with the machine: the steps the state allows
    (no query), then the actor's role and case scope (read once for all of them), then
    segregation of duties (the case's history read once), then the guards of what is left.
    """
    possible = [name for name in TRANSITION_ROLES if can_proceed(getattr(application, name))]
    with scope_read_once(actor):
        permitted = [name for name in possible if acting_role(actor, application, name)]
    blocked = segregated_steps(application, permitted, actor=actor)
    return [
        name
        for name in permitted
        if name not in blocked and not step_hooks.problems(application, name)
    ]
