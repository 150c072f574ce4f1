"""One decision from a verdict per need item: approve, reduce or reject.

The decision-maker says what happens to each item; the outcome of the decision (approve,
approve partly, reject) follows from the amounts, so nobody has to guess between "approve"
and "approve partly". Problems are reported per item and field (:class:`ItemProblems`), so a
form shows each one where it was made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables
from moneyed import Money

from core.exceptions import ValidationFailed
from fund.models import Application, NeedItem
from fund.money import format_money, parse_amount
from workflows import step_inputs
from workflows.models import DecisionOutcome, Obligation, ReasonCode
from workflows.services.assessment import _assessments
from workflows.services.base import ZERO, ItemProblems
from workflows.services.front_door import transition


class Verdict(models.TextChoices):
    APPROVE = "approve", gettext_lazy("Approve")
    REDUCE = "reduce", gettext_lazy("Reduce")
    REJECT = "reject", gettext_lazy("Reject")


@dataclass(frozen=True)
class ItemVerdict:
    """What the decision-maker decided for one need item (its id)."""

    item: int
    verdict: str
    amount: step_inputs.Amount = ""
    reason: str = ""
    text: str = ""


@sensitive_variables()
def decide_items(
    application: Application, *, actor: Any, verdicts: Sequence[ItemVerdict]
) -> Application:
    """Decide every item at once; the decision's outcome is chosen from the amounts."""
    step = decision_step(application, verdicts)
    return transition(application, actor=actor, step=step)


def decision_step(application: Application, verdicts: Sequence[ItemVerdict]) -> step_inputs.Decide:
    """The decision the verdicts make: amounts from the statutory check, outcome from them."""
    items, missing = _assessments(application)
    if missing:
        raise ValidationFailed(missing)
    given = {v.item: v for v in verdicts}
    by_item: dict[int, dict[str, list[str]]] = {}
    decided: list[step_inputs.DecidedItem] = []
    for item in items:
        problems: dict[str, list[str]] = {}
        entry = given.get(item.pk)
        if entry is None or entry.verdict not in Verdict.values:
            problems["verdict"] = [_("Choose approve, reduce or reject.")]
        else:
            decided_item = _decided_item(item, entry, problems)
            if decided_item is not None:
                decided.append(decided_item)
        if problems:
            by_item[item.pk] = problems
    if by_item:
        raise ItemProblems(by_item, {item.pk: item.position for item in items})
    requested = {item.pk: item.requested_amount for item in items}
    amounts = {d.item: _as_money(d.amount) for d in decided}
    return step_inputs.Decide(outcome=outcome_of(amounts, requested), items=tuple(decided))


def outcome_of(amounts: dict[int, Money], requested: dict[int, Money]) -> str:
    """Everything as requested: approve; nothing granted: reject; otherwise approve partly."""
    if all(amounts[pk] == requested[pk] for pk in amounts):
        return DecisionOutcome.APPROVE
    if not any(amount.amount for amount in amounts.values()):
        return DecisionOutcome.REJECT
    return DecisionOutcome.APPROVE_PARTLY


def _as_money(amount: step_inputs.Amount) -> Money:
    return amount if isinstance(amount, Money) else parse_amount(amount, field="", allow_zero=True)


def _decided_item(
    item: NeedItem, entry: ItemVerdict, problems: dict[str, list[str]]
) -> step_inputs.DecidedItem | None:
    assessment = item.statutory_assessment
    grantable: Money = assessment.grantable_amount
    reason = entry.reason
    if reason and reason not in ReasonCode.values:
        problems.setdefault("reason", []).append(_("Choose the reason from the list."))
    if reason == ReasonCode.OTHER and not entry.text.strip():
        problems.setdefault("reason_text", []).append(
            _("Write out the reason (“Other reason” needs it).")
        )
    amount = ZERO
    if entry.verdict == Verdict.APPROVE:
        if not grantable.amount:
            problems.setdefault("verdict", []).append(
                _("An authority is obliged to pay for this item: reject it.")
            )
        amount = grantable
        if not reason:
            reason = (
                ReasonCode.REDUCED_TO_REMAINDER
                if assessment.outcome == Obligation.PARTLY
                else ReasonCode.WITHIN_RULES
            )
    elif entry.verdict == Verdict.REDUCE:
        amount = _reduced_amount(entry.amount, grantable, problems)
        if not reason:
            problems.setdefault("reason", []).append(_("Choose why the item is reduced."))
    else:
        if not reason and assessment.outcome == Obligation.OBLIGED:
            reason = ReasonCode.SOCIETY_OBLIGED
        elif not reason:
            problems.setdefault("reason", []).append(_("Choose why the item is rejected."))
    if problems:
        return None
    return step_inputs.DecidedItem(
        item=item.pk, amount=amount, reason=reason, text=entry.text.strip()
    )


def _reduced_amount(value: Any, grantable: Money, problems: dict[str, list[str]]) -> Money:
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.setdefault("amount", []).append(_("Fill in the amount to grant."))
        return ZERO
    try:
        amount = parse_amount(value, field=_("Amount"), allow_zero=True)
    except ValidationError as exc:
        problems.setdefault("amount", []).extend(exc.messages)
        return ZERO
    if not amount.amount:
        problems.setdefault("amount", []).append(_("To grant nothing, reject the item."))
    elif amount >= grantable:
        problems.setdefault("amount", []).append(
            _("A reduced amount is less than %(max)s, what the statutory check allows.")
            % {"max": format_money(grantable)}
        )
    return amount
