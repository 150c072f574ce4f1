"""Segregation of duties: who prepared a decision may not sign it, nor pay it (a rule read
by the buttons and enforced by the steps)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
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

#: The steps segregation of duties has a rule for; every other step is free of it.
DECIDING = ("approve", "approve_partly", "reject")
RULED_STEPS = frozenset((*DECIDING, "reconsider", "confirm_paid"))


class _CaseHistory:
    """Who prepared, signed and decided this case: two reads at most, each when first needed.

    The buttons check up to five ruled steps on one page, and the three deciding steps ask the
    same questions, so the answers are read once per check round.
    """

    def __init__(self, app: Application) -> None:
        self.app = app

    @cached_property
    def preparer_ids(self) -> frozenset[int]:
        ids = set(
            StatutoryAssessment.objects.filter(need_item__application=self.app).values_list(
                "assessed_by_id", flat=True
            )
        )
        if self.app.prepared_by_id:
            ids.add(self.app.prepared_by_id)
        return frozenset(ids)

    @cached_property
    def _signatures(self) -> list[tuple[int, str, str, Any, Any, int | None]]:
        """Every decision of the case with each signer (or None when it has none)."""
        return list(
            Decision.objects.filter(application=self.app).values_list(
                "pk", "status", "outcome", "created_at", "effective_at", "signatures__signer_id"
            )
        )

    def _signers_of_latest(self, status: str, by: int) -> frozenset[int]:
        rows = [row for row in self._signatures if row[1] == status and row[by] is not None]
        if not rows:
            return frozenset()
        latest = max(rows, key=lambda row: (row[by], row[0]))[0]
        return frozenset(row[5] for row in rows if row[0] == latest and row[5] is not None)

    @cached_property
    def pending_signer_ids(self) -> frozenset[int]:
        """Who signed the (latest) decision awaiting its second signature."""
        return self._signers_of_latest(DecisionStatus.AWAITING_SIGNATURE, by=3)

    @cached_property
    def effective_signer_ids(self) -> frozenset[int]:
        """Who signed the decision in force (the latest to take effect)."""
        return self._signers_of_latest(DecisionStatus.EFFECTIVE, by=4)

    @cached_property
    def reconsidered_signer_ids(self) -> frozenset[int]:
        """Everyone who signed a rejection of this case that is being reconsidered."""
        return frozenset(
            signer
            for _pk, status, outcome, _c, _e, signer in self._signatures
            if outcome == DecisionOutcome.REJECT
            and status != DecisionStatus.AWAITING_SIGNATURE
            and signer is not None
        )


def _problems(history: _CaseHistory, name: str, actor_id: Any) -> list[str]:
    if name in DECIDING:
        problems = []
        if actor_id in history.preparer_ids:
            problems.append(_("You prepared this case, so another decision-maker must decide it."))
        if actor_id in history.pending_signer_ids:
            problems.append(
                _("You have already signed this decision; a second decision-maker must co-sign.")
            )
        if actor_id in history.reconsidered_signer_ids:
            problems.append(
                _("Omprövning must be made by a decision-maker who did not make the decision.")
            )
        return problems
    if name == "reconsider" and actor_id in history.reconsidered_signer_ids:
        return [_("Omprövning must be made by a decision-maker who did not make the decision.")]
    if name == "confirm_paid" and actor_id in history.effective_signer_ids:
        return [_("You decided this case, so another treasurer must confirm its payout.")]
    return []


def segregation_problems(app: Application, name: str, *, actor: Any) -> list[str]:
    """Who may not run a step because of what they already did on this case."""
    return segregated_steps(app, [name], actor=actor).get(name, [])


def segregated_steps(app: Application, names: Iterable[str], *, actor: Any) -> dict[str, list[str]]:
    """Of ``names``, the steps ``actor`` may not run on this case, each with its problems.

    The case's history is read once for all of them (no read when none of them is ruled).
    """
    history = _CaseHistory(app)
    actor_id = getattr(actor, "pk", None)
    found = {}
    for name in names:
        if name in RULED_STEPS:
            problems = _problems(history, name, actor_id)
            if problems:
                found[name] = problems
    return found
