"""Assessment and follow-up: the statutory check per item, referral, clearing, closing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from moneyed import Money

from audit.services import record_event
from core.exceptions import (
    PermissionDenied,
    TransitionNotAvailable,
    ValidationFailed,
)
from core.inputs import clean_text, shown
from core.roles import Role
from fund.case_scope import may_act_as
from fund.models import (
    Application,
    NeedItem,
)
from fund.money import format_money, parse_amount
from fund.privacy import AccessPurpose, access_problem
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
from workflows.services.base import (
    REFERENCE_TEXT_MAX,
    ZERO,
    ItemProblems,
    Step,
    _fire,
    _locked,
)


@dataclass(frozen=True)
class AssessmentInput:
    """One need item's statutory assessment as the officer gave it (the item by id)."""

    item: int
    outcome: str
    authority: str = ""
    legal_basis: str = ""
    evidence_reference: str = ""
    grantable_amount: Any = None


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
    given = AssessmentInput(
        item=item.pk,
        outcome=outcome,
        authority=authority,
        legal_basis=legal_basis,
        evidence_reference=evidence_reference,
        grantable_amount=grantable_amount,
    )
    try:
        return record_statutory_assessments(item.application, actor=actor, assessments=[given])[0]
    except ItemProblems as problems:
        # One item: its problems as they are, without "Item n:" before each.
        raise ValidationFailed(
            [m for fields in problems.by_item.values() for ms in fields.values() for m in ms]
        ) from problems


@sensitive_variables()
def record_statutory_assessments(
    application: Application, *, actor: Any, assessments: Sequence[AssessmentInput]
) -> list[StatutoryAssessment]:
    """Record the statutory assessment of several items at once: all of them or none.

    Every problem of every item is reported in one :class:`ItemProblems`, by item and field.
    """
    with transaction.atomic():
        application = _locked(application)
        if not may_act_as(actor, Role.OFFICER, application):
            raise PermissionDenied(_("Only an officer working in this fund may assess."))
        if application.state != State.STATUTORY_CHECK:
            raise TransitionNotAvailable(
                _("Items are assessed during the statutory obligation check.")
            )
        items = {item.pk: item for item in application.items.all()}
        unknown = [a.item for a in assessments if a.item not in items]
        if unknown:
            raise ValidationFailed(
                _("Unknown need items: %s") % ", ".join(shown(pk) for pk in unknown)
            )
        by_item: dict[int, dict[str, list[str]]] = {}
        checked = []
        for given in assessments:
            item = items[given.item]
            problems: dict[str, list[str]] = {}
            cleaned = _checked_assessment(item, given, problems)
            if problems:
                by_item[item.pk] = problems
            checked.append((item, cleaned))
        if by_item:
            raise ItemProblems(by_item, {pk: item.position for pk, item in items.items()})
        seen = evidence_visible_to(application, actor=actor)
        return [
            _save_assessment(item, given, actor, application, evidence_seen=seen)
            for item, given in checked
        ]


def evidence_visible_to(application: Application, *, actor: Any) -> bool:
    """Whether ``actor`` sees the stored evidence references (the person's data): the form
    of someone who does not comes with the field empty, which is no wish to erase it."""
    return (
        access_problem(
            application.beneficiary,
            actor=actor,
            application=application,
            purpose=AccessPurpose.CASE_HANDLING,
            reason="",
        )
        is None
    )


def _checked_assessment(
    item: NeedItem, given: AssessmentInput, problems: dict[str, list[str]]
) -> AssessmentInput:
    """The input with its evidence text cleaned and its grantable amount as Money; what is
    wrong goes into ``problems`` by field."""

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    outcome, authority, legal_basis = given.outcome, given.authority, given.legal_basis or ""
    if outcome not in Obligation.values:
        add("outcome", _("Choose whether an authority is obliged to pay."))
    if authority and authority not in Authority.values:
        add("authority", _("Choose the authority from the list."))
    if legal_basis and legal_basis not in LegalBasis.values:  # a code, never free text
        add("legal_basis", _("Choose the legal basis from the list."))
    text_problems: list[str] = []
    evidence_reference = clean_text(
        given.evidence_reference,
        text_problems,
        field=_("Evidence reference"),
        max_length=REFERENCE_TEXT_MAX,
    )
    for message in text_problems:
        add("evidence_reference", message)
    if outcome in (Obligation.OBLIGED, Obligation.PARTLY) and not problems:
        if not authority:
            add("authority", _("Name the authority that is obliged to pay."))
        if not legal_basis:
            add("legal_basis", _("State the legal basis (e.g. SoL 4 kap 1 §)."))
    grantable = item.requested_amount
    if outcome == Obligation.OBLIGED:
        grantable = ZERO
    elif outcome == Obligation.PARTLY:
        grantable = _remainder(item, given.grantable_amount, add)
    return AssessmentInput(
        item=item.pk,
        outcome=outcome,
        authority=authority,
        legal_basis=legal_basis,
        evidence_reference=evidence_reference,
        grantable_amount=grantable,
    )


def _remainder(item: NeedItem, value: Any, add: Callable[[str, str], None]) -> Money:
    """What the foundation may grant when an authority pays part: it must be stated (the
    rest is the authority's), and is less than what was requested."""
    if value is None or (isinstance(value, str) and not value.strip()):
        add(
            "grantable_amount",
            _("Fill in the amount that can be granted (what the authority does not pay)."),
        )
        return ZERO
    try:
        grantable = parse_amount(value, field=_("Remainder"))
    except ValidationError as exc:
        for message in exc.messages:
            add("grantable_amount", message)
        return ZERO
    if grantable >= item.requested_amount:
        add(
            "grantable_amount",
            _("The remainder must be less than the requested %(amount)s.")
            % {"amount": format_money(item.requested_amount)},
        )
    return grantable


def _save_assessment(
    item: NeedItem,
    given: AssessmentInput,
    actor: Any,
    application: Application,
    *,
    evidence_seen: bool,
) -> StatutoryAssessment:
    assessment = StatutoryAssessment.objects.filter(need_item=item).first()
    if assessment is None:
        assessment = StatutoryAssessment(need_item=item)
    assessment.outcome = given.outcome
    assessment.authority = given.authority
    assessment.legal_basis = given.legal_basis
    # An empty field from someone who could not see the stored reference keeps it.
    if given.evidence_reference or evidence_seen:
        assessment.evidence_reference = given.evidence_reference  # under the person's key
    assessment.grantable_amount = given.grantable_amount
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
            "outcome": given.outcome,
            "authority": given.authority,
            "legal_basis": assessment.legal_basis,
            "evidence": bool(assessment.encrypted_evidence_reference),
            "grantable": given.grantable_amount.amount,
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


def follow_up_problems(application: Application) -> list[str]:
    """A fund that requires follow-up closes no case without one (a guard of ``close``, so
    neither the page nor the API offers the step before it)."""
    if application.fund.follow_up_required and not application.follow_ups.exists():
        return [
            _("%(fund)s requires a follow-up that the support was used before closing.")
            % {"fund": application.fund.name}
        ]
    return []


def _close(step: Step[step_inputs.Close]) -> None:
    problems = follow_up_problems(step.application)
    if problems:
        raise ValidationFailed(problems)
    _fire(step)
