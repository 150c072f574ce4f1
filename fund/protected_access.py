"""Who may see a person with protected identity: grants given by a decision-maker.

Being assigned to a case or having prepared it opens nothing: anyone could assign a case to
themselves. Access to a protected identity is given by another person with the right to give
it (a decision-maker working in the case's fund), for a reason from a closed list, and both the
grant and its revocation are audit events on the case, so auditors see them on its trail.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.case_scope import works_in_fund
from fund.models import Application, ProtectedAccessReason, ProtectedIdentityGrant
from fund.states import FINAL_STATES


def active_grants(application: Application) -> QuerySet[ProtectedIdentityGrant]:
    """The grants in force for this case, oldest first, with who holds and gave them."""
    return (
        ProtectedIdentityGrant.objects.filter(application=application, revoked_at__isnull=True)
        .select_related("grantee", "granted_by")
        .order_by("granted_at", "pk")
    )


def holds_protected_access(user: Any, application: Application) -> bool:
    """Whether ``user`` holds a grant in force for this case (read now, never cached)."""
    return ProtectedIdentityGrant.objects.filter(
        application=application, grantee_id=user.pk, revoked_at__isnull=True
    ).exists()


def _require_decision_maker(actor: Any, application: Application, message: str) -> None:
    if not (has_role(actor, Role.DECISION_MAKER) and works_in_fund(actor, application)):
        raise PermissionDenied(message)


def grant_protected_access(
    application: Application, *, actor: Any, grantee: Any, reason: str
) -> ProtectedIdentityGrant:
    """Let ``grantee`` see the case's protected person; given by a decision-maker, audited."""
    _require_decision_maker(
        actor,
        application,
        _("Only a decision-maker working in this fund may give access to a protected identity."),
    )
    if grantee.pk == actor.pk:
        raise PermissionDenied(
            _("Nobody gives themselves access: ask another decision-maker in the fund.")
        )
    problems: list[str] = []
    if reason not in ProtectedAccessReason.values:
        problems.append(_("Choose the reason for the access from the list."))
    handler = has_role(grantee, Role.OFFICER) or has_role(grantee, Role.DECISION_MAKER)
    if not (handler and works_in_fund(grantee, application)):
        problems.append(
            _("Access can only be given to an officer or decision-maker in %(fund)s.")
            % {"fund": application.fund.name}
        )
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        app = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
        if app.state in FINAL_STATES:
            raise ValidationFailed(_("The case is finished: nobody needs new access to it."))
        if not app.beneficiary.protected_identity:
            raise ValidationFailed(
                _("The person has no protected identity: officers in the fund already see them.")
            )
        if holds_protected_access(grantee, app):
            raise ValidationFailed(_("They already have access to this case."))
        grant = ProtectedIdentityGrant.objects.create(
            application=app, grantee=grantee, granted_by=actor, reason=reason
        )
        record_event(
            action="privacy.access_granted",
            actor=actor,
            role=Role.DECISION_MAKER,
            object_type="application",
            object_ref=app.reference,
            payload={"grant": grant.pk, "grantee": grantee.pk, "reason": reason},
        )
    return grant


def revoke_protected_access(grant: ProtectedIdentityGrant, *, actor: Any) -> ProtectedIdentityGrant:
    """End a grant at once; any decision-maker working in the fund may, the giver included."""
    _require_decision_maker(
        actor,
        grant.application,
        _("Only a decision-maker working in this fund may revoke access to a protected identity."),
    )
    with transaction.atomic():
        grant = (
            ProtectedIdentityGrant.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=grant.pk)
        )
        if grant.revoked_at is not None:
            raise ValidationFailed(_("This access is already revoked."))
        grant.revoked_at = timezone.now()
        grant.revoked_by = actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            action="privacy.access_revoked",
            actor=actor,
            role=Role.DECISION_MAKER,
            object_type="application",
            object_ref=grant.application.reference,
            payload={"grant": grant.pk, "grantee": grant.grantee_id},
        )
    return grant
