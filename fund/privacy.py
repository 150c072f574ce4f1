"""Who may see a person's data, the log of every look, erasure and key rotation.

Rotation and re-keying live in ``fund.key_management`` (re-exported here).

Every page, API endpoint, export or admin view that shows personal values reads them through
:func:`read_personal_data`, which checks need-to-know and appends an access event in the
same transaction. Nothing else should touch ``Beneficiary.personal_data``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from audit.models import AuditEvent
from audit.services import record_event
from fund.crypto import encrypt_json
from fund.key_management import rekey_after_leak as rekey_after_leak
from fund.key_management import rotate_master_keys as rotate_master_keys
from fund.models import Application, Beneficiary, PersonalDataReadReason
from fund.protected_access import holds_protected_access
from fund.subject_access import article_15_information, case_records, own_payees
from workflows.exceptions import PermissionDenied, ValidationFailed
from workflows.roles import Role, has_role, is_case_ombud, works_in_fund
from workflows.states import State

#: The most characters of a reason stated for reading a person's data.
READ_REASON_MAX = 500

#: States in which a case still needs the person's data.
OPEN_STATES = tuple(
    s
    for s in State.values
    if s not in (State.REFERRED, State.CLOSED, State.WITHDRAWN, State.REJECTED)
)


class AccessPurpose(models.TextChoices):
    CASE_HANDLING = "case_handling", gettext_lazy("Case handling")
    AUDIT = "audit", gettext_lazy("Audit (with a stated reason)")
    SUBJECT_ACCESS = "subject_access", gettext_lazy("Data subject access request")


def access_problem(
    actor: Any, beneficiary: Beneficiary, application: Application | None, purpose: str, reason: str
) -> str | None:
    """Why ``actor`` may not see the person's values now, or None when they may."""
    if beneficiary.is_erased:
        return _("This person's data has been erased.")
    if purpose == AccessPurpose.AUDIT:
        if not has_role(actor, Role.AUDITOR):
            return _("Only an auditor may read personal data for audit.")
        if not reason.strip():
            return _("State why you need to see the person's data; the reason is logged.")
        return None
    if purpose == AccessPurpose.SUBJECT_ACCESS:
        return (
            None if has_role(actor, Role.ADMINISTRATOR) else _("Only an administrator may do that.")
        )
    if application is None or application.beneficiary_id != beneficiary.pk:
        return _("Personal data is shown only through a case the person belongs to.")
    if has_role(actor, Role.OMBUD) and is_case_ombud(actor, application):
        return None
    handler = (
        has_role(actor, Role.OFFICER) or has_role(actor, Role.DECISION_MAKER)
    ) and works_in_fund(actor, application)
    if not handler:
        return _("You do not work with this case.")
    # Being assigned or having prepared the case opens nothing: one can give oneself either.
    if beneficiary.protected_identity and not holds_protected_access(actor, application):
        return _(
            "The person has a protected identity: only the case's ombud and those a "
            "decision-maker has given access see it."
        )
    return None


@sensitive_variables()
def read_personal_data(
    actor: Any,
    beneficiary: Beneficiary,
    *,
    application: Application | None = None,
    purpose: str = AccessPurpose.CASE_HANDLING,
    reason: str = "",
    channel: str = "page",
) -> dict[str, Any]:
    """The person's values for ``actor``, after need-to-know; the look is audit-logged."""
    problem = access_problem(actor, beneficiary, application, purpose, reason)
    if problem:
        raise PermissionDenied(problem)
    reason = reason.strip()
    if len(reason) > READ_REASON_MAX:
        raise ValidationFailed(
            _("State the reason in at most %(max)s characters.") % {"max": READ_REASON_MAX}
        )
    with transaction.atomic():
        event = record_event(
            action="personal_data.viewed",
            actor=actor,
            role=_role_for(actor, purpose),
            object_type="beneficiary",
            object_ref=beneficiary.reference,
            payload={
                "application": application.reference if application else None,
                "purpose": purpose,
                "channel": channel,
                "reason_given": bool(reason),
            },
        )
        if reason:
            # Free text that may name the person: under their key, beside the chain.
            PersonalDataReadReason.objects.create(
                event=event,
                beneficiary=beneficiary,
                encrypted_reason=encrypt_json(beneficiary.wrapped_key, {"text": reason}),
            )
    return dict(beneficiary.personal_data)


def _role_for(actor: Any, purpose: str) -> str:
    if purpose == AccessPurpose.AUDIT:
        return Role.AUDITOR
    if purpose == AccessPurpose.SUBJECT_ACCESS:
        return Role.ADMINISTRATOR
    for role in (Role.OMBUD, Role.OFFICER, Role.DECISION_MAKER):
        if has_role(actor, role):
            return role
    return ""


def access_log(beneficiary: Beneficiary) -> QuerySet[AuditEvent]:
    """Who looked at this person, when and through which case (with any stated reason)."""
    return (
        AuditEvent.objects.filter(
            object_type="beneficiary",
            object_ref=beneficiary.reference,
            action="personal_data.viewed",
        )
        .select_related("read_reason__beneficiary")
        .order_by("sequence")
    )


def stated_reason(event: AuditEvent) -> str:
    """The reason given for a read, decrypted ("" when none was given or the person is erased)."""
    try:
        stored = event.read_reason  # type: ignore[attr-defined]
    except PersonalDataReadReason.DoesNotExist:
        return ""
    return str(stored.reason)


# --- retention and erasure ---------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    beneficiary: str
    hold_until: date | None
    due: bool
    reason: str


def retention_of(beneficiary: Beneficiary, today: date | None = None) -> Retention:
    """Until when the person's data must be kept, and why.

    Bookkeeping law keeps vouchers, not identities: with a voucher on any of the person's cases
    the hold runs to the end of the seventh year after the calendar year in which that
    voucher's fiscal year ended (bokföringslagen 7 kap. 2 §); without one, only until the
    last case is closed and the time to ask for omprövning has run.
    """
    today = today or timezone.localdate()
    applications = list(beneficiary.applications.select_related("fund"))
    open_refs = [a.reference for a in applications if a.state in OPEN_STATES]
    if open_refs:
        return Retention(
            beneficiary.reference, None, False, _("Open cases: %s") % ", ".join(open_refs)
        )
    if not applications:
        return Retention(beneficiary.reference, None, True, _("No cases."))
    holds = [_reconsideration_hold(applications)]
    voucher_hold = _voucher_hold(applications)
    if voucher_hold is not None:
        holds.append(voucher_hold)
    hold_until, reason = max(holds, key=lambda hold: hold[0])
    if today > hold_until:
        return Retention(beneficiary.reference, hold_until, True, _("The legal hold has ended."))
    return Retention(beneficiary.reference, hold_until, False, reason)


def _reconsideration_hold(applications: list[Application]) -> tuple[date, str]:
    """The last day omprövning can be asked for, counted from each case's last state change."""
    days = settings.RECONSIDERATION_WINDOW_DAYS

    def closed_on(app: Application) -> date:
        return timezone.localtime(app.state_changed_at or app.updated_at or app.created_at).date()

    last = max(applications, key=closed_on)
    until = closed_on(last) + timedelta(days=days)
    return until, _(
        "Omprövning of %(case)s can be asked until %(date)s (%(days)s days from its last step)."
    ) % {"case": last.reference, "date": until.isoformat(), "days": days}


def _voucher_hold(applications: list[Application]) -> tuple[date, str] | None:
    """The hold of the person's last voucher, named by series and number; None without one."""
    latest: tuple[date, Any] | None = None
    for voucher, app in _vouchers_of(applications):
        until = date(voucher.fiscal_year.end.year + app.fund.retention_years, 12, 31)
        if latest is None or (until, voucher.date) > (latest[0], latest[1].date):
            latest = (until, voucher)
    if latest is None:
        return None
    until, voucher = latest
    return until, _(
        "Accounting records (voucher %(voucher)s, fiscal year %(year)s) are kept until %(date)s."
    ) % {
        "voucher": f"{voucher.series}{voucher.number}",
        "year": str(voucher.fiscal_year),
        "date": until.isoformat(),
    }


def _vouchers_of(applications: list[Application]) -> list[tuple[Any, Application]]:
    """Every voucher that reaches one of these cases, with its case.

    Payouts and bank exceptions (booked and resolved) point at their vouchers; reversals
    point at what they reverse; a manual voucher names the case in its text.

    A decided grant's own vouchers (series D: cost and liability when decided, their reversal
    when released) do not hold the person: they move no money, and they stand on the case
    reference and the decision without an identity. A grant that was paid holds the person
    through its payout voucher, which is as late as any voucher of the decision.
    """
    from accounting.models import BankException, PaymentOrder, Voucher, VoucherSeries

    case_of: dict[int, int] = {}
    for voucher_id, app_id in PaymentOrder.objects.filter(
        application__in=applications, voucher__isnull=False
    ).values_list("voucher_id", "application_id"):
        case_of[voucher_id] = app_id
    for booked, resolved, app_id in BankException.objects.filter(
        order__application__in=applications
    ).values_list("voucher_id", "resolution_voucher_id", "order__application_id"):
        case_of[booked] = app_id
        if resolved is not None:
            case_of[resolved] = app_id
    by_reference = {app.reference: app.pk for app in applications}
    naming = models.Q()
    for reference in by_reference:
        naming |= models.Q(text__regex=rf"(^|[^A-Za-z0-9-]){re.escape(reference)}([^0-9]|$)")
    named = Voucher.objects.filter(naming).exclude(series=VoucherSeries.GRANTS)
    for voucher_id, text in named.values_list("pk", "text"):
        case_of.setdefault(voucher_id, next(pk for ref, pk in by_reference.items() if ref in text))
    frontier = set(case_of)
    while frontier:
        reversals = Voucher.objects.filter(reverses_id__in=frontier).exclude(pk__in=list(case_of))
        frontier = set()
        for voucher_id, reversed_id in reversals.values_list("pk", "reverses_id"):
            case_of[voucher_id] = case_of[reversed_id]
            frontier.add(voucher_id)
    cases = {app.pk: app for app in applications}
    vouchers = Voucher.objects.filter(pk__in=list(case_of)).select_related("fiscal_year")
    return [(voucher, cases[case_of[voucher.pk]]) for voucher in vouchers]


def retention_report(today: date | None = None) -> list[Retention]:
    people = Beneficiary.objects.filter(erased_at__isnull=True).prefetch_related(
        "applications__fund"
    )
    return [retention_of(person, today) for person in people.order_by("reference")]


def erase_person(actor: Any, beneficiary: Beneficiary, *, today: date | None = None) -> Beneficiary:
    """Crypto-shred the person once no hold applies; cases, ledger and audit chain remain."""
    if not has_role(actor, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only an administrator may erase a person's data."))
    with transaction.atomic():
        person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        if person.is_erased:
            return person
        retention = retention_of(person, today)
        if not retention.due:
            raise ValidationFailed(
                _("%(ref)s cannot be erased yet: %(reason)s")
                % {"ref": person.reference, "reason": retention.reason}
            )
        person.wrapped_key = ""
        person.encrypted_personal_data = ""
        person.personnummer_index = ""
        person.region = ""
        person.erased_at = timezone.now()
        person.save(
            update_fields=[
                "wrapped_key",
                "encrypted_personal_data",
                "personnummer_index",
                "region",
                "erased_at",
            ]
        )
        person._personal_cache = {}
        shredded_payees = _shred_person_payees(person)
        record_event(
            action="beneficiary.erased",
            actor=actor,
            role=Role.ADMINISTRATOR,
            object_type="beneficiary",
            object_ref=person.reference,
            payload={
                "hold_until": retention.hold_until.isoformat() if retention.hold_until else None,
                "payees": shredded_payees,
            },
        )
    return person


def _shred_person_payees(person: Beneficiary) -> dict[str, Any]:
    """The person's own payee records go with them: the bank files that named their account
    are redacted first (while the payee's key can still find it), then the key and the
    nonces of the batches that paid them are destroyed (the nonce is what keeps a file's
    stored digest from giving the account back).

    Refused while bank files paid them but the payout folder is missing (they could not be
    redacted, and the key that finds the account is about to go). Files exported before the
    nonce have their stored digest blanked instead.

    Returns counts and file references for the erasure's audit event.
    """
    from accounting.models import Payee
    from accounting.payouts.redaction import (
        destroy_file_nonces,
        forget_legacy_file_digests,
        payout_folder_problem,
        redact_payee_from_bank_files,
    )

    payees = list(Payee.objects.select_for_update().filter(beneficiary=person).order_by("pk"))
    problem = payout_folder_problem([p.pk for p in payees])
    if problem:  # the whole erasure rolls back: nothing is destroyed
        raise ValidationFailed(problem)
    files: list[str] = []
    for payee in payees:
        files.extend(redact_payee_from_bank_files(payee))
    ids = [p.pk for p in payees]
    count = Payee.objects.filter(pk__in=ids).update(
        wrapped_key="", encrypted_personal_data="", account="", bic="", active=False
    )
    return {
        "count": count,
        "bank_files_redacted": sorted(set(files)),
        "legacy_file_digests_blanked": forget_legacy_file_digests(ids),
        "batch_nonces_destroyed": destroy_file_nonces(ids),
    }


@sensitive_variables()
def subject_access_report(actor: Any, beneficiary: Beneficiary) -> dict[str, Any]:
    """Everything held about the person (GDPR Art 15), for the administrator to send."""
    personal = read_personal_data(
        actor, beneficiary, purpose=AccessPurpose.SUBJECT_ACCESS, channel="report"
    )
    cases = case_records(beneficiary)
    retention = retention_of(beneficiary)
    held = {
        "hold_until": retention.hold_until.isoformat() if retention.hold_until else None,
        "erasable": retention.due,
        "reason": str(retention.reason),
    }
    return {
        "reference": beneficiary.reference,
        "personal_data": personal,
        "region": beneficiary.region,
        "applications": cases,
        "payees": own_payees(beneficiary),
        "accesses": [
            {
                "at": event.occurred_at.isoformat(),
                "actor_id": event.actor_id,
                "role": event.actor_role,
                "purpose": event.payload.get("purpose"),
                "channel": event.payload.get("channel"),
                "application": event.payload.get("application"),
                "reason": stated_reason(event),
            }
            for event in access_log(beneficiary)
        ],
        "retention": held,
        "information": article_15_information(beneficiary, cases, held),
    }
