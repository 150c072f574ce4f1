"""What one transition and one case page cost in statements, held at the measured counts.

Each transition along the money path (and ``available_transitions`` for the case page after
it) is counted with its actor read afresh, as a request's user is, so the reads of roles and
fund memberships a request pays are in the count. The budgets are the counts measured when
they were written; the same walk in ``bench/bench_transitions.py`` prints them per kind of
statement. A change that adds statements fails here: measure again and say why in the commit.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.bench_transitions import counted_walk
from tests.factories import UserFactory
from tests.fixtures import World
from workflows.selectors import available_transitions

#: Statements per transition (BEGIN and COMMIT included), measured on each database.
TRANSITION_BUDGET: dict[str, dict[str, int]] = {
    "sqlite": {
        "submit": 10,
        "request_attestation": 9,
        "attest": 10,
        "start_statutory_check": 10,
        "clear": 10,
        "approve": 62,
        "schedule_payout": 15,
        "confirm_paid": 39,
    },
    "postgresql": {
        "submit": 11,
        "request_attestation": 10,
        "attest": 11,
        "start_statutory_check": 11,
        "clear": 11,
        "approve": 65,
        "schedule_payout": 17,
        "confirm_paid": 42,
    },
}
#: Statements of ``available_transitions`` on the case page of the step's actor, per state
#: reached (the same on both databases): roles, scope, the case's history, guards.
PAGE_BUDGET: dict[str, dict[str, int]] = {
    vendor: {
        "submitted": 3,
        "awaiting_ombud": 3,
        "ombud_verified": 3,
        "statutory_check": 3,
        "ready_for_decision": 3,
        "approved": 1,
        "payout_scheduled": 2,
        "paid": 1,
    }
    for vendor in ("sqlite", "postgresql")
}
#: The most statements ``available_transitions`` may cost, however many steps it checks.
PAGE_MOST = 5


def _totals(counts: dict[str, Any]) -> dict[str, int]:
    return {name: sum(kinds.values()) for name, kinds in counts.items()}


def _over(spent: dict[str, int], budget: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {name: (n, budget[name]) for name, n in spent.items() if n > budget[name]}


def test_each_transition_costs_at_most_its_measured_statements(world: World) -> None:
    transitions, _pages = counted_walk(world)
    spent = _totals(transitions)
    budget = TRANSITION_BUDGET[connection.vendor]
    assert set(spent) == set(budget)
    assert not _over(spent, budget), f"over budget (measured, budget): {_over(spent, budget)}"


def test_the_case_page_buttons_cost_at_most_their_measured_statements(world: World) -> None:
    _transitions, pages = counted_walk(world)
    spent = _totals(pages)
    budget = PAGE_BUDGET[connection.vendor]
    assert set(spent) == set(budget)
    assert not _over(spent, budget), f"over budget (measured, budget): {_over(spent, budget)}"


def _busy_user(world: World) -> Any:
    """Every staff role at once and working in the fund: every step of a state is checked."""
    user = UserFactory(roles=["officer", "decision_maker", "treasurer"])
    world.fund.handlers.add(user)
    return user


def _page_statements(app: Any, user: Any) -> tuple[int, list[str]]:
    fresh = type(user).objects.get(pk=user.pk)  # as a request's user: nothing read yet
    with CaptureQueriesContext(connection) as queries:
        names = available_transitions(app, actor=fresh)
    return len(queries), names


def test_available_transitions_does_not_grow_with_the_steps_it_checks(world: World) -> None:
    busy = _busy_user(world)
    app = world.to_decision(world.new_application("1500"))
    spent, names = _page_statements(app, busy)
    # Five steps are open to the busy user here, three of them ruled by segregation of duties.
    assert set(names) == {"approve", "approve_partly", "reject", "request_completion", "withdraw"}
    assert spent <= PAGE_MOST
    for app in (
        world.new_application("700"),
        world.to_statutory_check(world.new_application("800")),
        world.to_approved(world.new_application("900")),
    ):
        spent, names = _page_statements(app, busy)
        assert names, app.state
        assert spent <= PAGE_MOST, (app.state, spent)
