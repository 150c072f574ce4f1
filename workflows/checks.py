"""Every transition of the state machine has its role rule, its service handler and its input.

Who may run a transition is declared once, in :data:`fund.lifecycle.TRANSITION_ROLES`.
A transition added to the machine without a rule there (or without ``permission=``, which
django-fsm would read as "anyone may"), or with another transition's rule, is a system-check
error: ``manage.py check`` and every start of the application refuse it, and
``tests/workflows/test_transition_permissions.py`` tests the rules exhaustively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core import checks


def machine_transitions() -> list[Any]:
    """The django-fsm transitions of ``fund.Application``, one per (name, source state)."""
    from fund.models import Application

    field = Application._meta.get_field("state")
    return list(field.get_all_transitions(Application))  # type: ignore[attr-defined]


def transition_rule_problems(
    transitions: Iterable[Any] | None = None,
    roles: Mapping[str, Iterable[str]] | None = None,
    handlers: Mapping[str, Any] | None = None,
) -> list[str]:
    """What is missing or inconsistent between the machine, its role rules and its handlers."""
    from fund.lifecycle import TRANSITION_ROLES
    from workflows.services import HANDLERS

    transitions = machine_transitions() if transitions is None else list(transitions)
    roles = TRANSITION_ROLES if roles is None else roles
    handlers = HANDLERS if handlers is None else handlers
    problems = []
    names = set()
    for transition in transitions:
        name = transition.name
        names.add(name)
        permission = transition.permission
        if not list(roles.get(name, ())):
            problems.append(f"transition {name!r} has no role rule in TRANSITION_ROLES")
        if permission is None:
            problems.append(f"transition {name!r} has no permission (anyone could run it)")
        elif getattr(permission, "__name__", "") != f"may_{name}":
            problems.append(
                f"transition {name!r} checks {getattr(permission, '__name__', permission)!r}, "
                f"not allowed_for({name!r})"
            )
        if name not in handlers:
            problems.append(f"transition {name!r} has no handler in workflows.services")
    problems += [
        f"TRANSITION_ROLES names {name!r}, which is not a transition"
        for name in sorted(set(roles) - names)
    ]
    problems += [
        f"workflows.services handles {name!r}, which is not a transition"
        for name in sorted(set(handlers) - names)
    ]
    return sorted(set(problems))


@checks.register()
def check_transition_rules(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, obj="fund.lifecycle", id="workflows.E001")
        for problem in transition_rule_problems()
    ]


def transition_input_problems(
    transitions: Iterable[Any] | None = None,
    inputs: Mapping[str, type] | None = None,
    handlers: Mapping[str, Any] | None = None,
) -> list[str]:
    """Transitions without a typed input, or whose handler takes another input type."""
    from workflows.services import HANDLERS
    from workflows.step_inputs import INPUTS

    names = {t.name for t in (machine_transitions() if transitions is None else transitions)}
    inputs = INPUTS if inputs is None else inputs
    handlers = HANDLERS if handlers is None else handlers
    problems = [
        f"transition {name!r} has no input type in workflows.step_inputs"
        for name in sorted(names - set(inputs))
    ]
    problems += [
        f"workflows.step_inputs types {name!r}, which is not a transition"
        for name in sorted(set(inputs) - names)
    ]
    for name in sorted(names & set(handlers)):
        takes = getattr(handlers[name], "input_type", None)
        given = inputs.get(name)
        if takes is not given:
            problems.append(
                f"transition {name!r} takes {getattr(takes, '__name__', takes)}, "
                f"but its input type is {getattr(given, '__name__', given)}"
            )
    return problems


@checks.register()
def check_transition_inputs(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, obj="workflows.step_inputs", id="workflows.E003")
        for problem in transition_input_problems()
    ]


def unbooked_money_events() -> list[str]:
    """Steps that oblige or move money with nobody registered to book them."""
    from workflows.step_hooks import MONEY_EVENTS, handlers_of

    return [
        f"{event.__name__} has no handler: register one in an AppConfig.ready "
        "(workflows.step_hooks.on), or the ledger misses the money"
        for event in MONEY_EVENTS
        if not handlers_of(event)
    ]


@checks.register()
def check_money_events_booked(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, obj="workflows.step_hooks", id="workflows.E002")
        for problem in unbooked_money_events()
    ]
