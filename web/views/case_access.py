"""Who may act on a case: access to a protected identity, and a new ombud after revocation.

The views only translate the forms into calls of :mod:`fund.protected_access` and
:func:`workflows.assignment.reassign_ombud`, and show their refusals as worded.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from core.exceptions import WorkflowError
from core.roles import Role
from fund.case_scope import may_act_as
from fund.models import Application, OmbudStatus, ProtectedIdentityGrant
from fund.protected_access import active_grants, grant_protected_access, revoke_protected_access
from fund.states import FINAL_STATES
from web.access import page
from web.forms import GrantAccessForm, ReassignOmbudForm, RevokeAccessForm
from web.selectors import people_who_may_be_given_access, verified_ombuds, visible_application
from web.views.common import form_problems, show_refusal
from workflows.assignment import reassign_ombud


def _application(request: HttpRequest, reference: str) -> Application:
    app = visible_application(request.user, reference)
    if app is None:
        raise Http404
    return app


def case_access_context(request: HttpRequest, app: Application) -> dict[str, Any]:
    """What the application page shows of these: the grants, and the forms the user may use."""
    user = request.user
    handler = may_act_as(user, Role.OFFICER, app) or may_act_as(user, Role.DECISION_MAKER, app)
    context: dict[str, Any] = {"grants": [], "grant_form": None, "reassign_form": None}
    if not handler:
        return context
    if app.beneficiary.protected_identity:
        context["grants"] = list(active_grants(app))
        if may_act_as(user, Role.DECISION_MAKER, app) and app.state not in FINAL_STATES:
            context["grant_form"] = GrantAccessForm(
                people=people_who_may_be_given_access(app, user), auto_id="grant_%s"
            )
            context["may_revoke"] = True
    context["ombud_revoked"] = app.ombud.status == OmbudStatus.REVOKED
    if (
        context["ombud_revoked"]
        and app.state not in FINAL_STATES
        and may_act_as(user, Role.OFFICER, app)
    ):
        context["reassign_form"] = ReassignOmbudForm(
            ombuds=verified_ombuds().exclude(pk=app.ombud_id), auto_id="reassign_%s"
        )
    return context


@page(Role.DECISION_MAKER, methods=("POST",))
def grant_access_view(request: HttpRequest, reference: str) -> HttpResponse:
    app = _application(request, reference)
    form = GrantAccessForm(request.POST, people=people_who_may_be_given_access(app, request.user))
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:application", reference=reference)
    grantee = people_who_may_be_given_access(app, request.user).get(pk=form.cleaned_data["grantee"])
    try:
        grant_protected_access(
            app, actor=request.user, grantee=grantee, reason=form.cleaned_data["reason"]
        )
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            _("%(who)s now sees the person in %(ref)s.")
            % {"who": grantee.get_full_name() or grantee.get_username(), "ref": app.reference},
        )
    return redirect("web:application", reference=reference)


@page(Role.DECISION_MAKER, methods=("POST",))
def revoke_access_view(request: HttpRequest, reference: str) -> HttpResponse:
    app = _application(request, reference)
    form = RevokeAccessForm(request.POST)
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:application", reference=reference)
    grant = ProtectedIdentityGrant.objects.filter(
        pk=form.cleaned_data["grant"], application=app
    ).first()
    if grant is None:
        messages.error(request, _("No such access on this case."))
        return redirect("web:application", reference=reference)
    try:
        revoke_protected_access(grant, actor=request.user)
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The access is revoked."))
    return redirect("web:application", reference=reference)


@page(Role.OFFICER, methods=("POST",))
def reassign_ombud_view(request: HttpRequest, reference: str) -> HttpResponse:
    app = _application(request, reference)
    ombuds = verified_ombuds()
    form = ReassignOmbudForm(request.POST, ombuds=ombuds)
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:application", reference=reference)
    try:
        reassign_ombud(app, actor=request.user, ombud=ombuds.get(pk=form.cleaned_data["ombud"]))
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("%(ref)s is handed to the new ombud.") % {"ref": app.reference})
    return redirect("web:application", reference=reference)
