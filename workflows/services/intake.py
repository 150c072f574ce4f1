"""Intake: the person, the application, the ombud's attestation and komplettering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from moneyed import Money
from stdnum.se import personnummer

from audit.services import record_event
from core.crypto import blind_index, twelve_digits
from core.exceptions import (
    PermissionDenied,
    ValidationFailed,
)
from core.inputs import clean_text, shown
from core.roles import Role, has_role
from fund.models import (
    Application,
    Beneficiary,
    Fund,
    NeedItem,
    Ombud,
    OmbudStatus,
)
from fund.references import next_reference
from workflows import fund_rules, step_inputs
from workflows.models import (
    Attestation,
    AttestationMethod,
    ClosingReason,
    CompletionRequest,
)
from workflows.need_items import check_need_items
from workflows.services.base import (
    COUNTY_CODE,
    MESSAGE_MAX,
    PERSON_TEXT_MAX,
    Step,
    _choice,
    _fire,
    _require,
)
from workflows.services.decisions import set_aside_pending_decision


def _clean_personnummer(value: str) -> str:
    """Twelve digits, whichever form was typed: the same person must get the same index."""
    value = value.strip()
    if not value:
        return ""
    if not personnummer.is_valid(value):
        raise ValidationFailed(_("The personal identity number is not valid."))
    return twelve_digits(value)


def county_code_problems(region: str) -> list[str]:
    """Why ``region`` is no county code (a page shows it at the field, the service refuses)."""
    region = (region or "").strip().upper()
    if region and not COUNTY_CODE.fullmatch(region):
        return [
            _("“%(v)s” is not a county code (one or two letters, e.g. AB).") % {"v": shown(region)}
        ]
    return []


@sensitive_variables()
def personal_number_problems(value: str) -> list[str]:
    """Why ``value`` is no personal identity number, as :func:`register_beneficiary` says it."""
    try:
        _clean_personnummer(value or "")
    except ValidationFailed as refusal:
        return refusal.messages
    return []


@sensitive_variables()
def register_beneficiary(
    *,
    actor: Any,
    name: str,
    personal_number: str = "",
    contact: str = "",
    protected_identity: bool = False,
    region: str = "",
) -> Beneficiary:
    """Register the person support is for; their values are stored encrypted only."""
    _require(
        has_role(actor, Role.OMBUD) or has_role(actor, Role.OFFICER),
        _("Only an ombud or an officer may register a person."),
    )
    problems: list[str] = []
    name = clean_text(name, problems, field=_("Name"), max_length=PERSON_TEXT_MAX)
    contact = clean_text(contact, problems, field=_("Contact"), max_length=PERSON_TEXT_MAX)
    region = clean_text(region, problems, field=_("County code"), max_length=2).upper()
    number = clean_text(personal_number, problems, field=_("Personnummer"), max_length=20)
    if not name and not problems:
        problems.append(_("The person's name is required."))
    problems += county_code_problems(region)
    if problems:
        raise ValidationFailed(problems)
    number = _clean_personnummer(number)
    index = blind_index(number) if number else ""
    typed = {"name": name, "contact": contact, "region": region}
    with transaction.atomic():
        known = _known_person(actor, index) if index else None
        if known is not None:
            return _matched(known, actor, typed=typed, protect=bool(protected_identity))
        # A twin of a protected person is protected too: the index knows the number is
        # protected even when this actor may not know the person exists.
        protected_identity = bool(protected_identity) or _index_is_protected(index)
        beneficiary = Beneficiary(
            reference=next_reference("B"),
            personnummer_index=index,
            region=region,
        )
        beneficiary.set_personal_data(
            {
                "name": name,
                "personnummer": number,
                "contact": contact,
                "protected_identity": bool(protected_identity),
            }
        )
        beneficiary.save()
        record_event(
            action="beneficiary.registered",
            actor=actor,
            role=Role.OMBUD if has_role(actor, Role.OMBUD) else Role.OFFICER,
            object_type="beneficiary",
            object_ref=beneficiary.reference,
            payload={
                "fields": sorted(
                    key
                    for key, value in beneficiary.personal_data.items()
                    if value not in ("", False)
                )
            },
        )
    return beneficiary


def _index_is_protected(index: str) -> bool:
    """Whether anyone registered under this personnummer index has a protected identity."""
    if not index:
        return False
    people = Beneficiary.objects.filter(personnummer_index=index, erased_at__isnull=True)
    return any(person.protected_identity for person in people)


def _protected_scope_problems(actor: Any, person: Beneficiary, ombud: Ombud) -> list[str]:
    """A new case must not open a protected person to anyone who could not see them before.

    The actor must already see the person through one of the person's cases (the case's
    ombud, or a holder of a decision-maker's grant), and the case's ombud must already be the
    ombud of one of the person's cases. A person with no case yet is the registrant's.
    """
    from fund.privacy import AccessPurpose, access_problem

    cases = list(person.applications.select_related("fund", "ombud"))
    if not cases or not person.protected_identity:
        return []
    if not any(
        access_problem(
            person,
            actor=actor,
            application=case,
            purpose=AccessPurpose.CASE_HANDLING,
            reason="",
        )
        is None
        for case in cases
    ):
        return [_("The person has a protected identity: you may not apply for them.")]
    if not any(case.ombud_id == ombud.pk for case in cases):
        return [
            _(
                "The person has a protected identity: a new case keeps the ombud they already "
                "have; a decision-maker hands a case to another ombud."
            )
        ]
    return []


def _known_person(actor: Any, index: str) -> Beneficiary | None:
    """The person already registered under this personnummer, if ``actor`` may see them.

    Seeing follows ``fund.privacy``: an ombud with a case of the person, an officer working
    in a fund of one of the person's cases (for a protected identity: named on that case).
    Whoever may not see the person gets a record of their own and is told nothing; the
    yearly limit still counts by the personnummer's index, so that record resets nothing.
    """
    from fund.privacy import AccessPurpose, access_problem

    people = Beneficiary.objects.filter(personnummer_index=index, erased_at__isnull=True)
    for person in people.order_by("created_at", "pk"):
        for application in person.applications.select_related("fund"):
            if (
                access_problem(
                    person,
                    actor=actor,
                    application=application,
                    purpose=AccessPurpose.CASE_HANDLING,
                    reason="",
                )
                is None
            ):
                return person
    return None


def _matched(
    person: Beneficiary, actor: Any, *, typed: Mapping[str, str], protect: bool
) -> Beneficiary:
    """The existing record wins: what was typed again is ignored, except a raised protection."""
    stored = person.personal_data
    current = {**stored, "region": person.region}
    ignored = sorted(key for key, value in typed.items() if value and value != current.get(key))
    raised = protect and not person.protected_identity
    if raised:  # narrows who sees the person, never widens it
        person.set_personal_data({**stored, "protected_identity": True})
        person.save(update_fields=["encrypted_personal_data", "wrapped_key"])
    record_event(
        action="beneficiary.matched",
        actor=actor,
        role=Role.OMBUD if has_role(actor, Role.OMBUD) else Role.OFFICER,
        object_type="beneficiary",
        object_ref=person.reference,
        payload={
            "matched_by": "personnummer_index",
            "ignored": ignored,
            "protected_identity_raised": raised,
        },
    )
    return person


@dataclass(frozen=True)
class NeedInput:
    """One need item as entered: category, description and requested amount."""

    category: str
    amount: Any
    description: str = ""


def _validated_items(fund: Fund, items: Sequence[NeedInput]) -> list[tuple[NeedInput, Money]]:
    check = check_need_items(fund, items)
    if not check.ok:
        raise ValidationFailed(check.messages())
    return [(item, check.amounts[row]) for row, item in enumerate(items)]


@sensitive_variables()
def create_application(
    *,
    actor: Any,
    fund: Fund,
    beneficiary: Beneficiary,
    items: Sequence[NeedInput],
    ombud: Ombud | None = None,
) -> Application:
    """A draft application; an ombud applies for themselves, an officer names the ombud."""
    if has_role(actor, Role.OMBUD) and getattr(actor, "ombud", None) is not None:
        ombud = actor.ombud
        role = Role.OMBUD
    else:
        _require(
            has_role(actor, Role.OFFICER) and fund.handlers.filter(pk=actor.pk).exists(),
            _("Only an ombud, or an officer working in this fund, may create an application."),
        )
        role = Role.OFFICER
    if ombud is None:
        raise ValidationFailed(_("Name the ombud who applies for the person."))
    if ombud.status == OmbudStatus.REVOKED:
        raise PermissionDenied(_("This ombud's registration is revoked."))
    if beneficiary.is_erased:
        raise ValidationFailed(
            _(
                "%(ref)s was erased: its data is gone, and the limit per person cannot count "
                "its earlier grants. To apply again, register the person anew."
            )
            % {"ref": beneficiary.reference}
        )
    protected = _protected_scope_problems(actor, beneficiary, ombud)
    if protected:
        raise PermissionDenied(protected)
    if not fund.active:
        raise ValidationFailed(_("%(fund)s is not open for applications.") % {"fund": fund.name})
    validated = _validated_items(fund, items)
    with transaction.atomic():
        application = Application.objects.create(
            reference=next_reference("A"), fund=fund, beneficiary=beneficiary, ombud=ombud
        )
        NeedItem.objects.bulk_create(
            NeedItem(  # type: ignore[misc]  # Money into a MoneyField
                application=application,
                position=position,
                category=item.category,
                description=item.description.strip(),
                requested_amount=amount,
            )
            for position, (item, amount) in enumerate(validated, start=1)
        )
        record_event(
            action="application.created",
            actor=actor,
            role=role,
            object_type="application",
            object_ref=application.reference,
            payload={
                "fund": fund.code,
                "beneficiary": beneficiary.reference,
                "items": [
                    {"position": n, "category": item.category, "requested": amount.amount}
                    for n, (item, amount) in enumerate(validated, start=1)
                ],
            },
        )
    return application


def _submit(step: Step[step_inputs.Submit]) -> None:
    app = step.application
    problems = []
    if not app.items.exists():
        problems.append(_("An application needs at least one need item."))
    if not app.fund.active:
        problems.append(_("%(fund)s is not open for applications.") % {"fund": app.fund.name})
    problems += fund_rules.scope_problems(app)
    if problems:
        raise ValidationFailed(problems)
    app.submitted_at = timezone.now()
    _fire(step)


def _request_attestation(step: Step[step_inputs.RequestAttestation]) -> None:
    app = step.application
    if app.assigned_officer_id is None:
        app.assigned_officer = step.actor
    _fire(step)


def _attest(step: Step[step_inputs.Attest]) -> None:
    app = step.application
    problems = []
    if not app.ombud.may_attest:
        problems.append(_("Only a verified ombud at a verified organisation can attest a need."))
    method = step.data.method
    if method not in AttestationMethod.values:
        problems.append(_("Choose how the need was attested."))
    if step.data.need_confirmed is not True:
        problems.append(_("Confirm that you have seen the need described in the application."))
    if problems:
        raise ValidationFailed(problems)
    attestation = Attestation.objects.create(
        application=app, ombud=app.ombud, method=method, attested_at=timezone.now()
    )
    _fire(step, attestation=attestation.pk, method=method)


def _decline_attestation(step: Step[step_inputs.DeclineAttestation]) -> None:
    reason = _choice(step.data.reason, ClosingReason, _("Choose why the need is not attested."))
    _fire(step, reason=reason)


def _request_completion(step: Step[step_inputs.RequestCompletion]) -> None:
    problems: list[str] = []
    message = clean_text(
        step.data.message,
        problems,
        field=_("Message"),
        max_length=MESSAGE_MAX,
        multiline=True,
    )
    if not message and not problems:
        problems.append(_("Write what the ombud needs to add."))
    if problems:
        raise ValidationFailed(problems)
    request = CompletionRequest(
        application=step.application,
        requested_by=step.actor,
        requested_at=timezone.now(),
        from_state=step.application.state,
    )
    request.message = message  # encrypted under the person's key
    request.save()
    # A decision awaiting its second signature would block the ombud's changes and could
    # still be co-signed over them: it is set aside, and the case is decided again.
    set_aside_pending_decision(step, reason="completion_requested")
    _fire(step, completion_request=request.pk)


def _resubmit(step: Step[step_inputs.Resubmit]) -> None:
    app = step.application
    request = app.completion_requests.filter(resolved_at__isnull=True).first()
    if request is not None:
        request.resolved_at = timezone.now()
        request.resolved_by = step.actor
        request.save(update_fields=["resolved_at", "resolved_by"])
    _fire(step, completion_request=request.pk if request else None)
