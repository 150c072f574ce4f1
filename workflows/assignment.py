"""Who handles a case: its officer (the worklist's bulk action) and its ombud after revocation."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.case_scope import may_act_as
from fund.models import Application, Ombud, OmbudStatus
from fund.states import FINAL_STATES


def assign_officer(application: Application, *, actor: Any, officer: Any) -> Application:
    """Make ``officer`` the case's assigned officer; both must work in the case's fund."""
    with transaction.atomic():
        app = (
            Application.objects.select_for_update(of=("self",))
            .select_related("fund")
            .get(pk=application.pk)
        )
        if not may_act_as(actor, Role.OFFICER, app):
            raise PermissionDenied(_("Only an officer working in this fund may assign the case."))
        if not (
            has_role(officer, Role.OFFICER) and app.fund.handlers.filter(pk=officer.pk).exists()
        ):
            raise ValidationFailed(_("The case can only be assigned to an officer in its fund."))
        if app.state in FINAL_STATES:
            raise ValidationFailed(_("A finished case is not assigned."))
        previous = app.assigned_officer_id
        if previous == officer.pk:
            return app
        app.assigned_officer = officer
        app.save(update_fields=["assigned_officer", "updated_at"])
        record_event(
            action="application.assigned",
            actor=actor,
            role=Role.OFFICER,
            object_type="application",
            object_ref=app.reference,
            payload={"officer": officer.pk, "previous": previous},
        )
    return app


def reassign_ombud(application: Application, *, actor: Any, ombud: Ombud) -> Application:
    """Hand a case whose ombud was revoked to another verified ombud; audited.

    The new ombud takes the case where it stands: a draft they submit, a case awaiting
    attestation they attest, a komplettering they answer and resubmit. An attestation the
    former ombud gave before the revocation stays on record.
    """
    with transaction.atomic():
        app = (
            Application.objects.select_for_update(of=("self",))
            .select_related("fund", "ombud", "beneficiary")
            .get(pk=application.pk)
        )
        protected = app.beneficiary.protected_identity
        if protected and not may_act_as(actor, Role.DECISION_MAKER, app):
            raise PermissionDenied(
                _(
                    "The person has a protected identity: only a decision-maker working in this "
                    "fund may hand the case to another ombud."
                )
            )
        if not protected and not may_act_as(actor, Role.OFFICER, app):
            raise PermissionDenied(
                _("Only an officer working in this fund may hand the case to another ombud.")
            )
        if app.state in FINAL_STATES:
            raise ValidationFailed(_("A finished case is not handed to another ombud."))
        if app.ombud.status != OmbudStatus.REVOKED:
            raise ValidationFailed(
                _("Only a case whose ombud's registration is revoked is handed to another ombud.")
            )
        new = Ombud.objects.select_related("organisation").get(pk=ombud.pk)
        if new.pk == app.ombud_id or not new.may_attest:
            raise ValidationFailed(
                _("Hand the case to a verified ombud at a verified organisation.")
            )
        previous = app.ombud_id
        app.ombud = new
        app.save(update_fields=["ombud", "updated_at"])
        record_event(
            action="application.ombud_changed",
            actor=actor,
            role=Role.DECISION_MAKER if protected else Role.OFFICER,
            object_type="application",
            object_ref=app.reference,
            payload={"ombud": new.pk, "previous": previous},
        )
    return app
