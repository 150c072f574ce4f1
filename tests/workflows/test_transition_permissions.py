"""Who may run which transition: every transition of the machine x every role, tried for real.

The rule is declared once in production code (``fund.lifecycle.TRANSITION_ROLES``); this
file holds the same table written by hand, so a change on either side is noticed. The
transitions themselves are read from the django-fsm machine, so a new transition without a
rule fails here (and in ``manage.py check``, see ``workflows/checks.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction

from core.exceptions import PermissionDenied
from fund.lifecycle import TRANSITION_ROLES
from fund.models import Application
from tests.factories import OmbudFactory, UserFactory
from tests.fixtures import World
from workflows import services, step_inputs
from workflows.checks import machine_transitions, transition_rule_problems
from workflows.models import Obligation

#: Columns of the matrix. The first six are in the case's scope (the case's own ombud, officers
#: and decision-makers working in its fund); the ``other_``/``outside_`` ones hold the same role
#: outside it (another ombud's case, another fund) and may never run anything.
ROLES = (
    "ombud",
    "other_ombud",
    "officer",
    "outside_officer",
    "decision_maker",
    "outside_decision_maker",
    "treasurer",
    "auditor",
    "administrator",
)

#: Written by hand: who may run each transition (in the case's scope).
EXPECTED: dict[str, set[str]] = {
    "submit": {"ombud", "officer"},
    "request_attestation": {"officer"},
    "attest": {"ombud"},
    "decline_attestation": {"ombud"},
    "start_statutory_check": {"officer"},
    "refer": {"officer"},
    "clear": {"officer"},
    "approve": {"decision_maker"},
    "approve_partly": {"decision_maker"},
    "reject": {"decision_maker"},
    "schedule_payout": {"treasurer"},
    "confirm_paid": {"treasurer"},
    "payout_failed": {"treasurer"},
    "close": {"officer"},
    "request_completion": {"officer"},
    "resubmit": {"ombud", "officer"},
    "reconsider": {"decision_maker"},
    "withdraw": {"ombud", "officer"},
    "give_up_payout": {"officer"},
}

ALLOWED, REFUSED = "allowed", "refused"


@pytest.mark.evidence("security")
def test_the_declared_rules_match_the_table_written_by_hand(evidence: Any) -> None:
    """The role rule per transition in fund.lifecycle equals the hand-written table."""
    declared = {name: {str(role) for role in roles} for name, roles in TRANSITION_ROLES.items()}
    for name in sorted(EXPECTED):
        evidence.row(
            tried=f"TRANSITION_ROLES[{name!r}]",
            outcome=", ".join(sorted(declared.get(name, ()))) or "(none)",
        )
    assert declared == EXPECTED


@pytest.mark.evidence("security")
def test_every_transition_of_the_machine_has_a_rule(evidence: Any) -> None:
    """Every django-fsm transition has a role rule, a permission and a service handler."""
    names = sorted({t.name for t in machine_transitions()})
    problems = transition_rule_problems()
    evidence.row(
        tried=f"{len(names)} transitions read from the machine",
        outcome="; ".join(problems) or "no problems",
    )
    assert names == sorted(EXPECTED)
    assert problems == []


@pytest.mark.evidence("security")
def test_a_transition_without_a_rule_is_detected(evidence: Any) -> None:
    """The rule check names a new transition without a rule, without permission or mis-wired."""

    def may(name: str) -> Callable[..., bool]:
        def permission(instance: Any, user: Any) -> bool:
            return True

        permission.__name__ = f"may_{name}"
        return permission

    real = machine_transitions()
    cases = {
        "no rule": SimpleNamespace(name="teleport", source="draft", permission=may("teleport")),
        "no permission": SimpleNamespace(name="submit", source="paid", permission=None),
        "another's rule": SimpleNamespace(name="approve", source="paid", permission=may("close")),
    }
    with_teleport = {**services.HANDLERS, "teleport": services.HANDLERS["submit"]}
    expected = {
        "no rule": "transition 'teleport' has no role rule in TRANSITION_ROLES",
        "no permission": "transition 'submit' has no permission (anyone could run it)",
        "another's rule": "transition 'approve' checks 'may_close', not allowed_for('approve')",
    }
    for label, extra in cases.items():
        handlers = with_teleport if extra.name == "teleport" else services.HANDLERS
        problems = transition_rule_problems([*real, extra], handlers=handlers)
        evidence.row(tried=f"a transition with {label}", outcome="; ".join(problems))
        assert problems == [expected[label]], label
    problems = transition_rule_problems(real, handlers={})
    evidence.row(tried="transitions without service handlers", outcome=f"{len(problems)} problems")
    assert len(problems) == len(EXPECTED)


# --- the exhaustive matrix ---------------------------------------------------------------


def _build_cases(world: World) -> dict[str, Application]:
    """One case per state a transition leaves from (plus a referable one), built once."""
    w = world
    ombud = w.ombud.user
    cases: dict[str, Application] = {}
    cases["draft"] = w.new_application("1500")
    cases["submitted"] = w.run(w.new_application("1500"), "submit", ombud)
    app = w.run(w.run(w.new_application("1500"), "submit", ombud), "request_attestation", w.officer)
    cases["awaiting_ombud"] = app
    app = w.run(w.new_application("1500"), "submit", ombud)
    app = w.run(app, "request_attestation", w.officer)
    cases["ombud_verified"] = w.run(app, "attest", ombud, method="portal", need_confirmed=True)
    cases["statutory_check"] = w.to_statutory_check(w.new_application("1500"))
    w.assess_all(cases["statutory_check"])
    obliged = w.to_statutory_check(w.new_application("1500"))
    w.assess_all(
        obliged, outcome=Obligation.OBLIGED, authority="social_services", legal_basis="sol_4_1"
    )
    cases["statutory_check/obliged"] = obliged
    cases["ready_for_decision"] = w.to_decision(w.new_application("1500"))
    app = w.run(w.new_application("1500"), "submit", ombud)
    cases["needs_completion"] = w.run(app, "request_completion", w.officer, message="Kvitto")
    cases["approved"] = w.to_approved(w.new_application("1500"))
    cases["rejected"] = w.run(w.to_decision(w.new_application("1500")), "reject", w.decider)
    app = w.run(w.to_approved(w.new_application("1500")), "schedule_payout", w.treasurer)
    w.send_payouts(app)
    cases["payout_scheduled"] = app
    # Failing a payout by hand is for orders whose file was never exported (issue #13).
    app = w.run(w.to_approved(w.new_application("1500")), "schedule_payout", w.treasurer)
    cases["payout_scheduled/unexported"] = app
    cases["paid"] = w.to_paid(w.new_application("1500"))
    # A payout is given up only once one was tried (issue #16): here it failed.
    app = w.run(w.to_approved(w.new_application("1500")), "schedule_payout", w.treasurer)
    cases["approved/payout_failed"] = w.run(app, "payout_failed", w.treasurer, reason="other")
    return cases


#: Transitions that need a case prepared differently from the plain one in their state.
CASE_VARIANT = {
    "refer": "statutory_check/obliged",
    "payout_failed": "payout_scheduled/unexported",
    "give_up_payout": "approved/payout_failed",
}

#: What each transition needs besides permission, so that an allowed role really runs it.
DATA: dict[str, Callable[[Application], dict[str, Any]]] = {
    "attest": lambda app: {"method": "portal", "need_confirmed": True},
    "decline_attestation": lambda app: {"reason": "need_not_confirmed"},
    "approve_partly": lambda app: {"items": [{"item": app.items.get().pk, "amount": "1000"}]},
    "payout_failed": lambda app: {"reason": "wrong_account"},
    "request_completion": lambda app: {"message": "Bifoga kvittot"},
    "withdraw": lambda app: {"reason": "applicant_request"},
    "give_up_payout": lambda app: {"reason": "payee_unreachable"},
}


def _users(world: World) -> dict[str, Any]:
    return {
        "ombud": world.ombud.user,
        "other_ombud": OmbudFactory().user,
        "officer": world.officer,
        "outside_officer": UserFactory(roles=["officer"]),
        # The rejected case was decided by world.decider: omprövning needs another one.
        "decision_maker": world.decider2,
        "outside_decision_maker": UserFactory(roles=["decision_maker"]),
        "treasurer": world.treasurer,
        "auditor": world.auditor,
        "administrator": world.admin,
    }


def _attempt(app: Application, name: str, user: Any) -> tuple[str, bool]:
    """Run the transition as ``user`` and roll it back: (allowed or refused, offered)."""
    offered = name in services.available_transitions(app, actor=user)
    with transaction.atomic():
        try:
            services.transition(
                app, actor=user, step=step_inputs.parse(name, {**DATA.get(name, lambda a: {})(app)})
            )
        except PermissionDenied:
            outcome = REFUSED
        else:
            outcome = ALLOWED
        transaction.set_rollback(True)
    return outcome, offered


@pytest.mark.evidence("security")
def test_each_role_may_run_exactly_its_transitions(world: World, evidence: Any) -> None:
    """Every transition x source state x role, run through services.transition()."""
    cases = _build_cases(world)
    users = _users(world)
    got: dict[tuple[str, str, str], str] = {}
    expected: dict[tuple[str, str, str], str] = {}
    offered_wrongly = []
    pairs = sorted({(t.name, str(t.source)) for t in machine_transitions()})
    for name, source in pairs:
        app = cases[CASE_VARIANT.get(name, source)]
        assert app.state == source
        for role in ROLES:
            outcome, offered = _attempt(app, name, users[role])
            got[name, source, role] = outcome
            expected[name, source, role] = ALLOWED if role in EXPECTED[name] else REFUSED
            if offered != (outcome == ALLOWED):
                offered_wrongly.append((name, source, role))
            evidence.row(
                tried=f"{name} on a {source} case as {role}",
                outcome=outcome,
                matrix="transitions",
                target=f"{name} from {source}",
                role=role,
            )
    assert len(pairs) == 30  # a new transition or source state joins the matrix here
    assert got == expected
    assert offered_wrongly == [], "available_transitions() disagrees with transition()"
