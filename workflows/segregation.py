"""Segregation of duties: who prepared a decision may not sign it, nor pay it (a rule read
by the buttons and enforced by the steps)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fund.models import (
    Application,
)
from workflows.models import (
    Decision,
    DecisionOutcome,
    DecisionStatus,
    StatutoryAssessment,
)
from workflows.services.base import _effective_decision


def _preparer_ids(app: Application) -> set[int]:
    ids = set(
        StatutoryAssessment.objects.filter(need_item__application=app).values_list(
            "assessed_by_id", flat=True
        )
    )
    if app.prepared_by_id:
        ids.add(app.prepared_by_id)
    return ids


def _reconsidered_signers(app: Application) -> set[int]:
    """Everyone who signed a rejection of this case that is being reconsidered."""
    return set(
        Decision.objects.filter(application=app, outcome=DecisionOutcome.REJECT)
        .exclude(status=DecisionStatus.AWAITING_SIGNATURE)
        .values_list("signatures__signer_id", flat=True)
    ) - {None}


def segregation_problems(app: Application, name: str, *, actor: Any) -> list[str]:
    """Who may not run a step because of what they already did on this case."""
    actor_id = getattr(actor, "pk", None)
    if name in ("approve", "approve_partly", "reject"):
        problems = []
        if actor_id in _preparer_ids(app):
            problems.append(_("You prepared this case, so another decision-maker must decide it."))
        pending = app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).first()
        if pending and actor_id in pending.signer_ids():
            problems.append(
                _("You have already signed this decision; a second decision-maker must co-sign.")
            )
        if actor_id in _reconsidered_signers(app):
            problems.append(
                _("Omprövning must be made by a decision-maker who did not make the decision.")
            )
        return problems
    if name == "reconsider" and actor_id in _reconsidered_signers(app):
        return [_("Omprövning must be made by a decision-maker who did not make the decision.")]
    if name == "confirm_paid":
        decision = _effective_decision(app)
        if decision is not None and actor_id in decision.signer_ids():
            return [_("You decided this case, so another treasurer must confirm its payout.")]
    return []
