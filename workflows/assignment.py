"""Assigning a case to an officer (the worklist's bulk action)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from fund.models import Application
from workflows.exceptions import PermissionDenied, ValidationFailed
from workflows.roles import Role, has_role, may_act_as
from workflows.states import FINAL_STATES, State


def assign_officer(application: Application, actor: Any, officer: Any) -> Application:
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
        if app.state in (*FINAL_STATES, State.CLOSED):
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
