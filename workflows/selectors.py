"""Reads about cases for pages and the API: which steps a user may run now."""

from __future__ import annotations

from typing import Any

from django_fsm import can_proceed

from fund.lifecycle import TRANSITION_ROLES, acting_role
from fund.models import Application
from workflows import step_hooks
from workflows.segregation import segregation_problems


def available_transitions(application: Application, *, actor: Any) -> list[str]:
    """The transitions this user may run on this case now (for buttons and the API)."""
    names = []
    for name in TRANSITION_ROLES:
        method = getattr(application, name)
        if not can_proceed(method) or acting_role(actor, application, name) is None:
            continue
        if segregation_problems(application, name, actor=actor):
            continue
        if step_hooks.problems(application, name):
            continue
        names.append(name)
    return names
