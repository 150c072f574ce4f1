"""Decisions: decide, sign, take effect, and omprövning."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from audit.services import record_event
from core.exceptions import (
    ValidationFailed,
)
from core.inputs import clean_text, shown
from fund.locks import lock_fund
from fund.models import (
    Application,
    NeedItem,
)
from fund.money import format_money, parse_amount
from workflows import fund_rules, step_hooks, step_inputs
from workflows.models import (
    Decision,
    DecisionItem,
    DecisionOutcome,
    DecisionStatus,
    Obligation,
    ReasonCode,
)
from workflows.services.assessment import _assessments
from workflows.services.base import ZERO, Step, _effective_decision, _fire
from workflows.step_hooks import (
    DecisionTookEffect,
    GrantReleased,
)

#: The most characters of a decision's reason written out (kept under the person's key).
REASON_TEXT_MAX = 500


def _decided_amounts(step: Step[step_inputs.Decide], outcome: str) -> dict[int, tuple[Money, str]]:
    """Per item id: the amount granted and the reason code, from the input or the defaults.

    A reason written out (``DecidedItem.text``) is checked here too; :func:`_decide` keeps it."""
    app = step.application
    items, missing = _assessments(app)
    if missing:
        raise ValidationFailed(missing)
    # The input names each item by id (its shape was checked where it was parsed).
    given = {each.item: each for each in step.data.items}
    unknown = set(given) - {i.pk for i in items}
    if unknown:
        raise ValidationFailed(
            _("Unknown need items: %s") % ", ".join(shown(pk) for pk in sorted(unknown))
        )
    default_reason = step.data.reason or ReasonCode.WITHIN_RULES
    problems: list[str] = []
    result: dict[int, tuple[Money, str]] = {}
    for item in items:
        assessment = item.statutory_assessment
        label = _("Item %(n)s") % {"n": item.position}
        entry = given.get(item.pk)
        if entry is not None:
            try:
                amount = parse_amount(entry.amount, field=label, allow_zero=True)
            except ValidationError as exc:
                problems += exc.messages
                continue
            reason = entry.reason or (ReasonCode.WITHIN_RULES if amount.amount else default_reason)
            text_problems: list[str] = []
            clean_text(entry.text, text_problems, field=label, max_length=REASON_TEXT_MAX)
            problems += text_problems
            if reason == ReasonCode.OTHER and not entry.text.strip():
                problems.append(
                    _("%(label)s: write out the reason (“Other reason” needs it).")
                    % {"label": label}
                )
        elif outcome == DecisionOutcome.REJECT or assessment.outcome == Obligation.OBLIGED:
            amount = ZERO
            reason = (
                ReasonCode.SOCIETY_OBLIGED
                if assessment.outcome == Obligation.OBLIGED
                else default_reason
            )
        else:
            amount = assessment.grantable_amount
            reason = (
                ReasonCode.REDUCED_TO_REMAINDER
                if assessment.outcome == Obligation.PARTLY
                else ReasonCode.WITHIN_RULES
            )
        if reason not in ReasonCode.values:
            problems.append(_("%(label)s: choose a reason.") % {"label": label})
        if amount > assessment.grantable_amount:
            problems.append(
                _("%(label)s: at most %(max)s can be granted after the statutory check.")
                % {"label": label, "max": format_money(assessment.grantable_amount)}
            )
        result[item.pk] = (amount, str(reason))
    if problems:
        raise ValidationFailed(problems)
    return result


def _outcome_problems(
    outcome: str, decided: dict[int, tuple[Money, str]], app: Application
) -> list[str]:
    requested = {i.pk: i.requested_amount for i in app.items.all()}
    granted = [amount for amount, _r in decided.values()]
    full = all(amount == requested[pk] for pk, (amount, _r) in decided.items())
    if outcome == DecisionOutcome.APPROVE and not full:
        return [_("Some items are reduced or rejected: use “approve partly”.")]
    if outcome == DecisionOutcome.APPROVE_PARTLY and (full or not any(a.amount for a in granted)):
        return [_("“Approve partly” needs at least one item granted and one reduced or rejected.")]
    if outcome == DecisionOutcome.REJECT and any(a.amount for a in granted):
        return [_("A rejection grants nothing; set every item to 0.")]
    return []


def _granted_amounts(decision: Decision) -> dict[int, Money]:
    return {di.need_item_id: di.amount for di in decision.items.all()}


def _set_aside(step: Step[Any], pending: Decision, *, reason: str = "outside_fund_rules") -> None:
    """A pending decision gives way: to a new decision when it no longer fits the fund's
    rules, or to a komplettering (the items may change; the case is decided again)."""
    pending.status = DecisionStatus.SUPERSEDED
    pending.save(update_fields=["status"])
    record_event(
        action="decision.set_aside",
        actor=step.actor,
        role=step.role,
        object_type="application",
        object_ref=step.application.reference,
        payload={"decision": pending.pk, "reason": reason},
    )


def set_aside_pending_decision(step: Step[Any], *, reason: str) -> None:
    """No decision stays half-signed on a case that goes back to the ombud."""
    pending = step.application.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).first()
    if pending is not None:
        _set_aside(step, pending, reason=reason)


def _decide(step: Step[step_inputs.Decide]) -> None:
    app = step.application
    outcome = step.name
    # Under the fund lock, so two decisions for the same person cannot both fit its limits.
    app.fund = lock_fund(app.fund)
    pending = app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).first()
    shown = step.data.signs
    if shown is not None and (step.data.items or step.data.reason):
        raise ValidationFailed(
            _(
                "A co-signature signs the decision as it was made: it takes no amounts and no "
                "reason of its own."
            )
        )
    if shown is not None and (pending is None or pending.pk != shown):
        raise ValidationFailed(
            _(
                "The decision awaiting a signature has changed since you opened the case: "
                "read it again before you sign."
            )
        )
    if pending is not None:
        if pending.outcome == outcome and not step.data.items:
            if shown is None and step.data.signature_named_only:
                raise ValidationFailed(
                    _(
                        "A decision awaits a second signature: name the decision you sign "
                        "(its number, as you read it)."
                    )
                )
            _sign(step, pending)
            return
        if not fund_rules.decision_problems(app, _granted_amounts(pending)):
            raise ValidationFailed(
                _("A decision to “%(outcome)s” awaits a second signature; co-sign it as it is.")
                % {"outcome": DecisionOutcome(pending.outcome).label}
            )
        _set_aside(step, pending)
    decided = _decided_amounts(step, outcome)
    problems = _outcome_problems(outcome, decided, app)
    problems += fund_rules.decision_problems(app, {pk: a for pk, (a, _r) in decided.items()})
    if problems:
        raise ValidationFailed(problems)
    total = sum((amount for amount, _r in decided.values()), ZERO)
    threshold = app.fund.two_signature_threshold
    required = (
        2
        if outcome != DecisionOutcome.REJECT and threshold is not None and total > threshold
        else 1
    )
    reason = step.data.reason or (
        ReasonCode.WITHIN_RULES if total.amount else ReasonCode.NEED_NOT_SHOWN
    )
    if reason not in ReasonCode.values:
        raise ValidationFailed(_("Choose a reason for the decision."))
    previous = app.decisions.filter(
        status=DecisionStatus.EFFECTIVE, outcome=DecisionOutcome.REJECT
    ).first()
    decision = Decision.objects.create(  # type: ignore[misc]  # Money into a MoneyField
        application=app,
        outcome=outcome,
        status=DecisionStatus.AWAITING_SIGNATURE,
        reason=reason,
        total_approved=total,
        required_signatures=required,
        reconsiders=previous,
        created_at=timezone.now(),
    )
    items = {item.pk: item for item in app.items.all()}
    texts = {each.item: each.text for each in step.data.items}
    rows = []
    for pk, (amount, reason_code) in decided.items():
        row = DecisionItem(  # type: ignore[misc]  # Money into a MoneyField
            decision=decision,
            need_item=items[pk],
            outcome=_item_outcome(amount, items[pk].requested_amount),
            amount=amount,
            reason=reason_code,
        )
        row.reason_text = texts.get(pk, "")  # encrypted under the person's key
        rows.append(row)
    DecisionItem.objects.bulk_create(rows)
    _sign(step, decision)


def _item_outcome(amount: Money, requested: Money) -> str:
    if amount.amount == 0:
        return NeedItem.Outcome.REJECTED
    return NeedItem.Outcome.APPROVED if amount == requested else NeedItem.Outcome.REDUCED


def _decision_payload(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.pk,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "total": decision.total_approved.amount,
        "signatures": decision.signatures.count(),
        "required_signatures": decision.required_signatures,
        "reconsiders": decision.reconsiders_id,
        "items": [
            {
                "item": di.need_item.position,
                "outcome": di.outcome,
                "amount": di.amount.amount,
                "reason": di.reason,
                "reason_written": bool(di.encrypted_reason_text),
            }
            for di in decision.items.select_related("need_item").order_by("need_item__position")
        ],
    }


def _sign(step: Step[step_inputs.Decide], decision: Decision) -> None:
    from workflows.models import DecisionSignature

    now = timezone.now()
    DecisionSignature.objects.create(decision=decision, signer=step.actor, signed_at=now)
    if decision.signatures.count() < decision.required_signatures:
        record_event(
            action="decision.signed",
            actor=step.actor,
            role=step.role,
            object_type="application",
            object_ref=step.application.reference,
            payload=_decision_payload(decision),
        )
        return
    _make_effective(step, decision, now)


def _make_effective(step: Step[step_inputs.Decide], decision: Decision, now: Any) -> None:
    app = step.application
    # Checked again as it takes effect: the person's year may have filled since it was signed.
    app.fund = lock_fund(app.fund)
    problems = fund_rules.decision_problems(app, _granted_amounts(decision))
    if problems:
        if decision.required_signatures > 1:
            problems.append(
                _(
                    "The decision awaiting your signature no longer fits the fund's rules: "
                    "decide the case again (reduce or reject)."
                )
            )
        raise ValidationFailed(problems)
    if decision.reconsiders_id:
        Decision.objects.filter(pk=decision.reconsiders_id).update(status=DecisionStatus.SUPERSEDED)
    decision.status = DecisionStatus.EFFECTIVE
    decision.effective_at = now
    decision.save(update_fields=["status", "effective_at"])
    for di in decision.items.select_related("need_item"):
        item = di.need_item
        item.approved_amount = di.amount
        item.outcome = di.outcome
        item.save(update_fields=["approved_amount", "approved_amount_currency", "outcome"])
    app.decided_at = now
    step_hooks.run(DecisionTookEffect(decision, step.actor))
    step.payload.update(_decision_payload(decision))
    _fire(step)


def _reconsider(step: Step[step_inputs.Reconsider]) -> None:
    app = step.application
    if app.beneficiary.is_erased:
        # Erasure waits for the time to ask for omprövning; after it nothing is left to re-try.
        raise ValidationFailed(
            _(
                "%(ref)s can no longer be reconsidered: the time to ask for omprövning has run "
                "and the person's data has been erased."
            )
            % {"ref": app.reference}
        )
    decision = _effective_decision(app)
    if decision is None or decision.outcome != DecisionOutcome.REJECT:
        raise ValidationFailed(
            _(
                "Only a rejection by decision can be reconsidered; when the ombud did not "
                "attest the need, a new application is needed."
            )
        )
    for item in app.items.all():
        item.approved_amount = None
        item.outcome = ""
        item.save(update_fields=["approved_amount", "approved_amount_currency", "outcome"])
    step_hooks.run(GrantReleased(app, step.actor, reason="reconsidered", role=step.role))
    _fire(step, reconsiders=decision.pk)
