"""Who may see a person's data, and the log of every look.

Retention, erasure and the subject access report live in the ``privacy`` app.

Rotation and re-keying live in ``fund.key_management`` (re-exported here).

Every page, API endpoint, export or admin view that shows personal values reads them through
:func:`read_personal_data`, which checks need-to-know and appends an access event in the
same transaction. Nothing else should touch ``Beneficiary.personal_data``.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from audit.models import AuditEvent
from audit.services import record_event
from core.crypto import encrypt_json
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.case_scope import is_case_ombud, works_in_fund
from fund.key_management import rekey_after_leak as rekey_after_leak
from fund.key_management import rotate_master_keys as rotate_master_keys
from fund.models import Application, Beneficiary, PersonalDataReadReason
from fund.protected_access import holds_protected_access
from fund.states import State

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
    beneficiary: Beneficiary,
    *,
    actor: Any,
    application: Application | None,
    purpose: str,
    reason: str,
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
    beneficiary: Beneficiary,
    *,
    actor: Any,
    application: Application | None = None,
    purpose: str = AccessPurpose.CASE_HANDLING,
    reason: str = "",
    channel: str = "page",
) -> dict[str, Any]:
    """The person's values for ``actor``, after need-to-know; the look is audit-logged."""
    problem = access_problem(
        beneficiary, actor=actor, application=application, purpose=purpose, reason=reason
    )
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
