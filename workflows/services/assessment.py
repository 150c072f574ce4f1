"""Assessment and follow-up: the statutory check per item, referral, clearing, closing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from audit.services import record_event
from core.exceptions import (
    PermissionDenied,
    TransitionNotAvailable,
    ValidationFailed,
)
from core.inputs import clean_text
from core.roles import Role
from fund.case_scope import may_act_as
from fund.models import (
    Application,
    NeedItem,
)
from fund.money import format_money, parse_amount
from fund.states import State
from workflows import step_inputs
from workflows.models import (
    Authority,
    FollowUp,
    FollowUpOutcome,
    LegalBasis,
    Obligation,
    StatutoryAssessment,
)
from workflows.services.base import REFERENCE_TEXT_MAX, ZERO, Step, _fire, _locked


@sensitive_variables()
def record_statutory_assessment(
    item: NeedItem,
    *,
    actor: Any,
    outcome: str,
    authority: str = "",
    legal_basis: str = "",
    evidence_reference: str = "",
    grantable_amount: Any = None,
) -> StatutoryAssessment:
    """Record, for one need item, whether an authority is obliged to pay instead."""
    with transaction.atomic():
        application = _locked(item.application)
        if not may_act_as(actor, Role.OFFICER, application):
            raise PermissionDenied(_("Only an officer working in this fund may assess."))
        if application.state != State.STATUTORY_CHECK:
            raise TransitionNotAvailable(
                _("Items are assessed during the statutory obligation check.")
            )
        problems: list[str] = []
        if outcome not in Obligation.values:
            problems.append(_("Choose whether an authority is obliged to pay."))
        if authority and authority not in Authority.values:
            problems.append(_("Choose the authority from the list."))
        if legal_basis in (None, ""):
            legal_basis = ""
        elif legal_basis not in LegalBasis.values:  # a code, never free text (it is audited)
            problems.append(_("Choose the legal basis from the list."))
        evidence_reference = clean_text(
            evidence_reference,
            problems,
            field=_("Evidence reference"),
            max_length=REFERENCE_TEXT_MAX,
        )
        if outcome in (Obligation.OBLIGED, Obligation.PARTLY) and not problems:
            if not authority:
                problems.append(_("Name the authority that is obliged to pay."))
            if not legal_basis:
                problems.append(_("State the legal basis (e.g. SoL 4 kap 1 §)."))
        grantable = item.requested_amount
        if outcome == Obligation.OBLIGED:
            grantable = ZERO
        elif outcome == Obligation.PARTLY:
            try:
                grantable = parse_amount(grantable_amount, field=_("Remainder"))
            except ValidationError as exc:
                problems += exc.messages
            else:
                if grantable >= item.requested_amount:
                    problems.append(
                        _("The remainder must be less than the requested %(amount)s.")
                        % {"amount": format_money(item.requested_amount)}
                    )
        if problems:
            raise ValidationFailed(problems)
        assessment = StatutoryAssessment.objects.filter(need_item=item).first()
        if assessment is None:
            assessment = StatutoryAssessment(need_item=item)
        assessment.outcome = outcome
        assessment.authority = authority
        assessment.legal_basis = legal_basis
        assessment.evidence_reference = evidence_reference  # encrypted under the person's key
        assessment.grantable_amount = grantable
        assessment.assessed_by = actor
        assessment.assessed_at = timezone.now()
        assessment.save()
        record_event(
            action="statutory.assessed",
            actor=actor,
            role=Role.OFFICER,
            object_type="application",
            object_ref=application.reference,
            payload={
                "item": item.position,
                "outcome": outcome,
                "authority": authority,
                "legal_basis": assessment.legal_basis,
                "evidence": bool(assessment.encrypted_evidence_reference),
                "grantable": grantable.amount,
            },
        )
    return assessment


@sensitive_variables()
def record_follow_up(
    application: Application, *, actor: Any, outcome: str, evidence_reference: str = ""
) -> FollowUp:
    """Record that the support was (or was not) used as intended."""
    with transaction.atomic():
        application = _locked(application)
        if not may_act_as(actor, Role.OFFICER, application):
            raise PermissionDenied(_("Only an officer working in this fund may record follow-up."))
        if application.state != State.PAID:
            raise TransitionNotAvailable(_("Follow-up is recorded after payment."))
        problems: list[str] = []
        if outcome not in FollowUpOutcome.values:
            problems.append(_("Choose how the support was used."))
        evidence_reference = clean_text(
            evidence_reference,
            problems,
            field=_("Evidence reference"),
            max_length=REFERENCE_TEXT_MAX,
        )
        if problems:
            raise ValidationFailed(problems)
        follow_up = FollowUp(
            application=application,
            outcome=outcome,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        follow_up.evidence_reference = evidence_reference  # encrypted under the person's key
        follow_up.save()
        record_event(
            action="application.follow_up",
            actor=actor,
            role=Role.OFFICER,
            object_type="application",
            object_ref=application.reference,
            payload={"outcome": outcome},
        )
    return follow_up


def _start_statutory_check(step: Step[step_inputs.StartStatutoryCheck]) -> None:
    app = step.application
    if not app.attestations.exists():
        raise ValidationFailed(_("The ombud has not attested the need yet."))
    app.prepared_by = step.actor
    if app.assigned_officer_id is None:
        app.assigned_officer = step.actor
    _fire(step)


def _assessments(app: Application) -> tuple[list[NeedItem], list[str]]:
    items = list(app.items.select_related("statutory_assessment").order_by("position"))
    missing = [
        _("Item %(n)s has no statutory assessment.") % {"n": item.position}
        for item in items
        if not hasattr(item, "statutory_assessment")
    ]
    return items, missing


def _refer(step: Step[step_inputs.Refer]) -> None:
    items, missing = _assessments(step.application)
    if missing:
        raise ValidationFailed(missing)
    not_obliged = [
        i.position for i in items if i.statutory_assessment.outcome != Obligation.OBLIGED
    ]
    if not_obliged:
        raise ValidationFailed(
            _(
                "Items %(items)s are not fully society's responsibility: clear the case for "
                "decision instead, and reject the obliged items there."
            )
            % {"items": ", ".join(map(str, not_obliged))}
        )
    _fire(
        step,
        referrals=[
            {
                "item": i.position,
                "authority": i.statutory_assessment.authority,
                "legal_basis": i.statutory_assessment.legal_basis,
            }
            for i in items
        ],
    )


def _clear(step: Step[step_inputs.Clear]) -> None:
    items, missing = _assessments(step.application)
    if missing:
        raise ValidationFailed(missing)
    if all(i.statutory_assessment.outcome == Obligation.OBLIGED for i in items):
        raise ValidationFailed(
            _("Society is obliged for every item: refer the case to the authority instead.")
        )
    _fire(step)


def _close(step: Step[step_inputs.Close]) -> None:
    app = step.application
    if app.fund.follow_up_required and not app.follow_ups.exists():
        raise ValidationFailed(
            _("%(fund)s requires a follow-up that the support was used before closing.")
            % {"fund": app.fund.name}
        )
    _fire(step)
