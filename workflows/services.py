"""The one entry point for changing a case.

Every public function checks the actor's role and case scope, validates input, runs the
state-machine transition, writes the domain rows and appends the audit event — all in one
database transaction. Pages, admin actions, the API and commands only translate input into
these calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django_fsm import ConcurrentTransition, can_proceed
from moneyed import Money
from stdnum.se import personnummer

from audit.services import record_event
from core.crypto import blind_index, twelve_digits
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    TransitionNotAvailable,
    ValidationFailed,
)
from core.inputs import as_entries, as_id, clean_text, shown
from core.roles import Role, has_role
from fund.case_scope import may_act_as, works_in_fund
from fund.lifecycle import TRANSITION_ROLES, acting_role
from fund.locks import lock_fund
from fund.models import (
    Application,
    Beneficiary,
    Fund,
    NeedItem,
    Ombud,
    OmbudStatus,
)
from fund.money import format_money, parse_amount
from fund.references import next_reference
from fund.states import State
from workflows import fund_rules, step_hooks
from workflows.models import (
    Attestation,
    AttestationMethod,
    Authority,
    ClosingReason,
    CompletionRequest,
    Decision,
    DecisionItem,
    DecisionOutcome,
    DecisionStatus,
    FollowUp,
    FollowUpOutcome,
    GiveUpReason,
    LegalBasis,
    Obligation,
    ReasonCode,
    StatutoryAssessment,
)
from workflows.step_hooks import (
    DecisionTookEffect,
    GrantReleased,
    PayoutConfirmed,
    PayoutFailed,
    PayoutScheduled,
)

ZERO = Money(0, "SEK")


# --------------------------------------------------------------------------------------
# Reading what a user may do
# --------------------------------------------------------------------------------------


def available_transitions(application: Application, actor: Any) -> list[str]:
    """The transitions this user may run on this case now (for buttons and the API)."""
    names = []
    for name in TRANSITION_ROLES:
        method = getattr(application, name)
        if not can_proceed(method) or acting_role(actor, application, name) is None:
            continue
        if _segregation_problems(application, name, actor):
            continue
        if _payout_problems(application, name):
            continue
        names.append(name)
    return names


def _payout_problems(application: Application, name: str) -> list[str]:
    """Steps the case's payment orders rule out now; offered no button, refused if run."""
    return step_hooks.problems(application, name)


# --------------------------------------------------------------------------------------
# Creating cases
# --------------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _clean_personnummer(value: str) -> str:
    """Twelve digits, whichever form was typed: the same person must get the same index."""
    value = value.strip()
    if not value:
        return ""
    if not personnummer.is_valid(value):
        raise ValidationFailed(_("The personal identity number is not valid."))
    return twelve_digits(value)


#: The most characters of a person's name or contact (as the forms and the API allow).
PERSON_TEXT_MAX = 200
#: Swedish county letters (länsbokstav): AB, C, D, … BD.
COUNTY_CODE = re.compile(r"[A-Z]{1,2}")
#: The most characters of a need description (the model refuses longer).
DESCRIPTION_MAX = 500
#: The most characters of an evidence reference (kept encrypted, under the person's key).
REFERENCE_TEXT_MAX = 120
#: The most characters of a komplettering message (as the API allows).
MESSAGE_MAX = 2000


@sensitive_variables()
def register_beneficiary(
    actor: Any,
    *,
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
    if region and not COUNTY_CODE.fullmatch(region):
        problems.append(
            _("“%(v)s” is not a county code (one or two letters, e.g. AB).") % {"v": shown(region)}
        )
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
        access_problem(actor, person, case, AccessPurpose.CASE_HANDLING, "") is None
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
            if access_problem(actor, person, application, AccessPurpose.CASE_HANDLING, "") is None:
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
    problems: list[str] = []
    result = []
    if not items:
        problems.append(_("An application needs at least one need item."))
    for position, item in enumerate(items, start=1):
        label = _("Item %(n)s") % {"n": position}
        problems += [f"{label}: {p}" for p in fund_rules.category_problems(fund, item.category)]
        clean_text(
            item.description, problems, field=label, max_length=DESCRIPTION_MAX, multiline=True
        )
        try:
            amount = parse_amount(item.amount, field=label)
        except ValidationError as exc:
            problems += exc.messages
            continue
        problems += fund_rules.item_limit_problems(fund, amount, label=label)
        result.append((item, amount))
    if not problems and fund.max_per_application is not None:
        total = sum((amount for _item, amount in result), ZERO)
        if total > fund.max_per_application:
            problems.append(
                _("The total %(total)s is over %(fund)s's limit of %(limit)s per application.")
                % {
                    "total": format_money(total),
                    "fund": fund.name,
                    "limit": format_money(fund.max_per_application),
                }
            )
    if problems:
        raise ValidationFailed(problems)
    return result


@sensitive_variables()
def create_application(
    actor: Any,
    *,
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


# --------------------------------------------------------------------------------------
# Statutory assessment and follow-up (data recorded within a state)
# --------------------------------------------------------------------------------------


def _locked(application: Application) -> Application:
    """The application locked for this transaction; a conflict if its state moved on."""
    current = (
        Application.objects.select_for_update(of=("self",))
        .select_related("fund", "beneficiary", "ombud__organisation")
        .get(pk=application.pk)
    )
    if current.state != application.state:
        raise ConflictError(
            _(
                "%(ref)s changed while you were working on it (now: %(state)s). "
                "Reload it and try again."
            )
            % {"ref": current.reference, "state": State(current.state).label}
        )
    return current


@sensitive_variables()
def record_statutory_assessment(
    item: NeedItem,
    actor: Any,
    *,
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
    application: Application, actor: Any, *, outcome: str, evidence_reference: str = ""
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


# --------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------


@dataclass
class Step:
    """One transition in progress: the locked case, who runs it and in which role."""

    application: Application
    name: str
    actor: Any
    role: str
    data: Mapping[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)


@sensitive_variables()
def transition(application: Application, name: str, actor: Any, **data: Any) -> Application:
    """Run transition ``name`` for ``actor``: permission, guards, effects and audit, atomically.

    Returns the application as saved. Raises ``PermissionDenied``, ``ConflictError``,
    ``ValidationFailed`` or ``TransitionNotAvailable`` with messages for people.
    """
    handler = HANDLERS.get(name)
    if handler is None:
        raise TransitionNotAvailable(_("There is no step called “%(name)s”.") % {"name": name})
    with transaction.atomic():
        current = _locked(application)
        if not can_proceed(getattr(current, name), check_conditions=False):
            raise TransitionNotAvailable(
                _("“%(name)s” is not possible while the application is “%(state)s”.")
                % {"name": name, "state": State(current.state).label}
            )
        role = acting_role(actor, current, name)
        if role is None:
            raise PermissionDenied(
                _("You may not run “%(name)s” on %(ref)s.")
                % {"name": name, "ref": current.reference}
            )
        problems = _segregation_problems(current, name, actor)
        if problems:
            raise PermissionDenied(problems)
        handler(Step(current, name, actor, role, data))
    return current


def _fire(step: Step, **extra: Any) -> None:
    """Run the machine's method, save, and append the audit event."""
    app = step.application
    source = app.state
    getattr(app, step.name)()
    now = timezone.now()
    app.state_changed_at = now
    try:
        app.save()
    except ConcurrentTransition as exc:
        raise ConflictError(
            _("%(ref)s changed while you were working on it. Reload it and try again.")
            % {"ref": app.reference}
        ) from exc
    record_event(
        action=f"application.{step.name}",
        actor=step.actor,
        role=step.role,
        object_type="application",
        object_ref=app.reference,
        payload={"from": source, "to": app.state, "fund": app.fund.code, **step.payload, **extra},
    )


def _choice(step: Step, key: str, choices: type, message: str) -> str:
    value = step.data.get(key)
    if value not in choices.values:  # type: ignore[attr-defined]
        raise ValidationFailed(message)
    return str(value)


def _submit(step: Step) -> None:
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


def _request_attestation(step: Step) -> None:
    app = step.application
    if app.assigned_officer_id is None:
        app.assigned_officer = step.actor
    _fire(step)


def _attest(step: Step) -> None:
    app = step.application
    problems = []
    if not app.ombud.may_attest:
        problems.append(_("Only a verified ombud at a verified organisation can attest a need."))
    method = step.data.get("method", AttestationMethod.PORTAL)
    if method not in AttestationMethod.values:
        problems.append(_("Choose how the need was attested."))
    if step.data.get("need_confirmed") is not True:
        problems.append(_("Confirm that you have seen the need described in the application."))
    if problems:
        raise ValidationFailed(problems)
    attestation = Attestation.objects.create(
        application=app, ombud=app.ombud, method=method, attested_at=timezone.now()
    )
    _fire(step, attestation=attestation.pk, method=method)


def _decline_attestation(step: Step) -> None:
    reason = _choice(step, "reason", ClosingReason, _("Choose why the need is not attested."))
    _fire(step, reason=reason)


def _start_statutory_check(step: Step) -> None:
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


def _refer(step: Step) -> None:
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


def _clear(step: Step) -> None:
    items, missing = _assessments(step.application)
    if missing:
        raise ValidationFailed(missing)
    if all(i.statutory_assessment.outcome == Obligation.OBLIGED for i in items):
        raise ValidationFailed(
            _("Society is obliged for every item: refer the case to the authority instead.")
        )
    _fire(step)


# --- decisions -------------------------------------------------------------------------


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


def _effective_decision(app: Application) -> Decision | None:
    return app.decisions.filter(status=DecisionStatus.EFFECTIVE).order_by("-effective_at").first()


def _segregation_problems(app: Application, name: str, actor: Any) -> list[str]:
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


def _decided_amounts(step: Step, outcome: str) -> dict[int, tuple[Money, str]]:
    """Per item id: the amount granted and the reason code, from the input or the defaults."""
    app = step.application
    items, missing = _assessments(app)
    if missing:
        raise ValidationFailed(missing)
    entries = as_entries(step.data.get("items"))
    if entries is None:
        raise ValidationFailed(
            _("The decided amounts must be a list of need items, each with its amount.")
        )
    given: dict[int, Mapping[str, Any]] = {}
    for each in entries:
        pk = as_id(each.get("item"))
        if pk is None:
            raise ValidationFailed(_("Each decided amount must name its need item."))
        given[pk] = each
    unknown = set(given) - {i.pk for i in items}
    if unknown:
        raise ValidationFailed(
            _("Unknown need items: %s") % ", ".join(shown(pk) for pk in sorted(unknown))
        )
    default_reason = step.data.get("reason") or ReasonCode.WITHIN_RULES
    problems: list[str] = []
    result: dict[int, tuple[Money, str]] = {}
    for item in items:
        assessment = item.statutory_assessment
        label = _("Item %(n)s") % {"n": item.position}
        entry = given.get(item.pk)
        if entry is not None:
            try:
                amount = parse_amount(entry.get("amount", 0), field=label, allow_zero=True)
            except ValidationError as exc:
                problems += exc.messages
                continue
            reason = entry.get("reason") or (
                ReasonCode.WITHIN_RULES if amount.amount else default_reason
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


def _set_aside(step: Step, pending: Decision) -> None:
    """A pending decision that no longer fits the fund's rules gives way to a new decision."""
    pending.status = DecisionStatus.SUPERSEDED
    pending.save(update_fields=["status"])
    record_event(
        action="decision.set_aside",
        actor=step.actor,
        role=step.role,
        object_type="application",
        object_ref=step.application.reference,
        payload={"decision": pending.pk, "reason": "outside_fund_rules"},
    )


def _decide(step: Step) -> None:
    app = step.application
    outcome = step.name
    # Under the fund lock, so two decisions for the same person cannot both fit its limits.
    app.fund = lock_fund(app.fund)
    pending = app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).first()
    if pending is not None:
        if pending.outcome == outcome and not step.data.get("items"):
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
    reason = step.data.get("reason") or (
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
    requested = {item.pk: item.requested_amount for item in app.items.all()}
    DecisionItem.objects.bulk_create(
        DecisionItem(  # type: ignore[misc]  # Money into a MoneyField
            decision=decision,
            need_item_id=pk,
            outcome=_item_outcome(amount, requested[pk]),
            amount=amount,
            reason=reason_code,
        )
        for pk, (amount, reason_code) in decided.items()
    )
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
            }
            for di in decision.items.select_related("need_item").order_by("need_item__position")
        ],
    }


def _sign(step: Step, decision: Decision) -> None:
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


def _make_effective(step: Step, decision: Decision, now: Any) -> None:
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


# --- payout, closing, komplettering, omprövning, withdrawal -----------------------------


def _schedule_payout(step: Step) -> None:
    decision = _effective_decision(step.application)
    if decision is None or not decision.total_approved.amount:
        raise ValidationFailed(_("There is no approved amount to pay out."))
    booked = step_hooks.run(
        PayoutScheduled(
            step.application,
            step.actor,
            payee=step.data.get("payee"),
            payees=step.data.get("payees"),
        )
    )
    _fire(step, total=decision.total_approved.amount, **booked)


def _confirm_paid(step: Step) -> None:
    step_hooks.run(PayoutConfirmed(step.application, step.actor))
    _fire(step)


class PayoutFailure:
    """Why the bank did not pay; codes only (the bank's own text stays with the bank file)."""

    values = ("account_closed", "wrong_account", "rejected_by_bank", "other")


def _payout_failed(step: Step) -> None:
    reason = _choice(step, "reason", PayoutFailure, _("Choose why the payout failed."))
    step_hooks.run(
        PayoutFailed(
            step.application,
            step.actor,
            reason,
            already=step.data.get("payment_orders") or (),
        )
    )
    _fire(step, reason=reason)


def _close(step: Step) -> None:
    app = step.application
    if app.fund.follow_up_required and not app.follow_ups.exists():
        raise ValidationFailed(
            _("%(fund)s requires a follow-up that the support was used before closing.")
            % {"fund": app.fund.name}
        )
    _fire(step)


def _request_completion(step: Step) -> None:
    problems: list[str] = []
    message = clean_text(
        step.data.get("message"),
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
    _fire(step, completion_request=request.pk)


def _resubmit(step: Step) -> None:
    app = step.application
    request = app.completion_requests.filter(resolved_at__isnull=True).first()
    if request is not None:
        request.resolved_at = timezone.now()
        request.resolved_by = step.actor
        request.save(update_fields=["resolved_at", "resolved_by"])
    _fire(step, completion_request=request.pk if request else None)


def _reconsider(step: Step) -> None:
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


def _withdraw(step: Step) -> None:
    reason = _choice(step, "reason", ClosingReason, _("Choose why the application is withdrawn."))
    app = step.application
    problems = _payout_problems(app, step.name)
    if problems:
        raise ValidationFailed(problems)
    app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).update(
        status=DecisionStatus.SUPERSEDED
    )
    step_hooks.run(GrantReleased(app, step.actor, reason="withdrawn", role=step.role))
    _fire(step, reason=reason)


def _give_up_payout(step: Step) -> None:
    """End an approved case whose remaining items will not be paid: what was paid stays paid,
    the rest is released (its cost and liability reversed) and the case is closed, not
    withdrawn, because the decision stood and money may have reached the payee."""
    reason = _choice(step, "reason", GiveUpReason, _("Choose why the payout is given up."))
    app = step.application
    problems = _payout_problems(app, step.name)
    if problems:
        raise ValidationFailed(problems)
    released = step_hooks.run(
        GrantReleased(app, step.actor, reason="payout_given_up", role=step.role)
    )
    _fire(step, reason=reason, **released)


HANDLERS: dict[str, Callable[[Step], None]] = {
    "submit": _submit,
    "request_attestation": _request_attestation,
    "attest": _attest,
    "decline_attestation": _decline_attestation,
    "start_statutory_check": _start_statutory_check,
    "refer": _refer,
    "clear": _clear,
    "approve": _decide,
    "approve_partly": _decide,
    "reject": _decide,
    "schedule_payout": _schedule_payout,
    "confirm_paid": _confirm_paid,
    "payout_failed": _payout_failed,
    "close": _close,
    "request_completion": _request_completion,
    "resubmit": _resubmit,
    "reconsider": _reconsider,
    "withdraw": _withdraw,
    "give_up_payout": _give_up_payout,
}

__all__ = [
    "HANDLERS",
    "NeedInput",
    "available_transitions",
    "create_application",
    "record_follow_up",
    "record_statutory_assessment",
    "register_beneficiary",
    "transition",
    "works_in_fund",
]
