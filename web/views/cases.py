"""The officer's workbench and the application page (shared by every role on the case)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from core.exceptions import WorkflowError
from core.roles import Role, roles_of
from fund.case_scope import may_act_as
from fund.models import Application, NeedItem
from fund.privacy import AccessPurpose, access_problem, read_personal_data
from fund.states import State
from web.access import HANDLERS, page
from web.forms import (
    AssessmentForm,
    AttestForm,
    BulkActionForm,
    CompletionForm,
    DecisionForm,
    GiveUpPayoutForm,
    PayoutFailedForm,
    ReasonForm,
    WorklistFilterForm,
)
from web.selectors import (
    WorklistQuery,
    funds_of,
    officers_in,
    revoked_ombud_case_count,
    visible_application,
    worklist,
)
from web.views.case_access import case_access_context
from web.views.common import form_problems, is_htmx, show_refusal
from workflows import services, step_inputs
from workflows.assignment import assign_officer
from workflows.completion import completion_requests_of
from workflows.decision_trail import decision_trail
from workflows.models import DecisionStatus

# --- worklist -------------------------------------------------------------------------


@page(*HANDLERS)
def worklist_view(request: HttpRequest) -> HttpResponse:
    funds = list(funds_of(request.user))
    officers = list(officers_in(funds_of(request.user)))
    form = WorklistFilterForm(request.GET or None, funds=funds, officers=officers)
    query = WorklistQuery()
    if form.is_valid():
        data = form.cleaned_data
        query = WorklistQuery(
            fund=data["fund"],
            state=data["state"] or "",
            officer=data["officer"] or "",
            waiting_days=data["waiting"],
            ombud_revoked=bool(data["ombud_revoked"]),
            sort=data["sort"] or "waiting",
            page=data["page"] or 1,
        )
    rows = worklist(request.user, query)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "rows": rows,
        "officers": officers,
        "query_string": params.urlencode(),
        "may_bulk": Role.OFFICER in _roles(request),
        "revoked_ombud_cases": revoked_ombud_case_count(request.user),
    }
    template = "web/partials/worklist_table.html" if is_htmx(request) else "web/worklist.html"
    return render(request, template, context)


def _roles(request: HttpRequest) -> frozenset[str]:
    return roles_of(request.user)


@page(Role.OFFICER, methods=("POST",))
def bulk_view(request: HttpRequest) -> HttpResponse:
    officers = officers_in(funds_of(request.user))
    form = BulkActionForm(request.POST, officers=officers, host=request.get_host())
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:worklist")
    action = form.cleaned_data["action"]
    officer = officers.get(pk=form.cleaned_data["officer"]) if action == "assign" else None
    done = 0
    for reference in form.cleaned_data["applications"]:
        app = visible_application(request.user, reference)
        if app is None:
            messages.error(request, _("%(ref)s: not found.") % {"ref": reference})
            continue
        try:
            if action == "assign":
                assign_officer(app, actor=request.user, officer=officer)
            else:
                services.transition(app, actor=request.user, step=step_inputs.RequestAttestation())
        except WorkflowError as error:
            for message in error.messages:
                messages.error(request, f"{reference}: {message}")
        else:
            done += 1
    if done:
        messages.success(request, _("Done for %(n)s applications.") % {"n": done})
    return redirect(form.cleaned_data["back"] or "web:worklist")


# --- the application page ---------------------------------------------------------------


def _application(request: HttpRequest, reference: str) -> Application:
    app = visible_application(request.user, reference)
    if app is None:
        raise Http404
    return app


TRANSITION_FORMS: dict[str, Any] = {
    "attest": AttestForm,
    "decline_attestation": ReasonForm,
    "withdraw": ReasonForm,
    "request_completion": CompletionForm,
    "payout_failed": PayoutFailedForm,
    "give_up_payout": GiveUpPayoutForm,
}
DECISIONS = ("approve", "approve_partly", "reject")


@sensitive_variables()
@page(Role.OMBUD, Role.OFFICER, Role.DECISION_MAKER, Role.TREASURER)
def application_view(request: HttpRequest, reference: str) -> HttpResponse:
    app = _application(request, reference)
    available = services.available_transitions(app, actor=request.user)
    items = list(app.items.select_related("statutory_assessment").order_by("position"))
    pending = (
        app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE)
        .prefetch_related("signatures__signer")
        .first()
    )
    texts_visible = _case_texts_visible(request, app)
    context = {
        "app": app,
        "texts_visible": texts_visible,
        "items": items,
        "attestations": list(app.attestations.select_related("ombud__user")),
        "completion_requests": completion_requests_of(app),
        "pending_decision": pending,
        "trail": decision_trail(app),
        "buttons": [
            name for name in available if name not in DECISIONS and name not in TRANSITION_FORMS
        ],
        "forms": {
            name: form(auto_id=f"{name}_%s")
            for name, form in TRANSITION_FORMS.items()
            if name in available
        },
        "decisions": [name for name in DECISIONS if name in available],
        "decision_form": DecisionForm(),
        "may_assess": app.state == State.STATUTORY_CHECK
        and may_act_as(request.user, Role.OFFICER, app),
        "assessment_forms": [
            (
                item,
                AssessmentForm(
                    prefix=f"item{item.pk}", initial=_assessment_initial(item, texts_visible)
                ),
            )
            for item in items
        ],
        **case_access_context(request, app),
    }
    return render(request, "web/application.html", context)


def _case_texts_visible(request: HttpRequest, app: Application) -> bool:
    """Need descriptions and komplettering messages are the person's data (under their key):
    shown only to whom the privacy core allows, and the look is logged like any other."""
    if access_problem(
        app.beneficiary,
        actor=request.user,
        application=app,
        purpose=AccessPurpose.CASE_HANDLING,
        reason="",
    ):
        return False
    read_personal_data(app.beneficiary, actor=request.user, application=app, channel="page")
    return True


def _assessment_initial(item: NeedItem, texts_visible: bool) -> dict[str, Any]:
    """The saved assessment; its evidence reference is the person's data (under their key),
    filled in only for whom the case's texts are visible."""
    assessment = getattr(item, "statutory_assessment", None)
    if assessment is None:
        return {}
    initial = {
        "outcome": assessment.outcome,
        "authority": assessment.authority,
        "legal_basis": assessment.legal_basis,
    }
    if texts_visible:
        initial["evidence_reference"] = assessment.evidence_reference
    return initial


@sensitive_variables()
@page(Role.OMBUD, Role.OFFICER, Role.DECISION_MAKER)
def person_view(request: HttpRequest, reference: str) -> HttpResponse:
    """The person's data, on request; every look is checked and logged by the privacy core."""
    app = _application(request, reference)
    try:
        person = read_personal_data(
            app.beneficiary, actor=request.user, application=app, channel="page"
        )
        refusal = ""
    except WorkflowError as error:
        person, refusal = None, " ".join(error.messages)
    template = "web/partials/person.html" if is_htmx(request) else "web/person.html"
    return render(request, template, {"app": app, "person": person, "refusal": refusal})


def _decision_items(request: HttpRequest, app: Application) -> list[dict[str, Any]]:
    items = []
    for item in app.items.all():
        amount = request.POST.get(f"amount_{item.pk}", "").strip()
        reason = request.POST.get(f"reason_{item.pk}", "").strip()
        if amount:
            entry: dict[str, Any] = {"item": item.pk, "amount": amount}
            if reason:
                entry["reason"] = reason
            items.append(entry)
    return items


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.OMBUD, Role.OFFICER, Role.DECISION_MAKER, Role.TREASURER, methods=("POST",))
def transition_view(request: HttpRequest, reference: str, name: str) -> HttpResponse:
    app = _application(request, reference)
    data: dict[str, Any] = {}
    if name in TRANSITION_FORMS:
        form = TRANSITION_FORMS[name](request.POST)
        if not form.is_valid():
            form_problems(request, form)
            return redirect("web:application", reference=reference)
        data = dict(form.cleaned_data)
        if name == "attest":
            data["need_confirmed"] = bool(data.get("need_confirmed"))
    elif name in DECISIONS:
        data = {"items": _decision_items(request, app)}
        if request.POST.get("reason"):
            data["reason"] = request.POST["reason"]
    try:
        services.transition(app, actor=request.user, step=step_inputs.parse(name, data))
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Done: %(ref)s is updated.") % {"ref": app.reference})
    return redirect("web:application", reference=reference)


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.OFFICER, methods=("POST",))
def assess_view(request: HttpRequest, reference: str, item_id: int) -> HttpResponse:
    app = _application(request, reference)
    item = get_object_or_404(NeedItem, pk=item_id, application=app)
    form = AssessmentForm(request.POST, prefix=f"item{item.pk}")
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:application", reference=reference)
    data = form.cleaned_data
    try:
        services.record_statutory_assessment(
            item,
            actor=request.user,
            outcome=data["outcome"],
            authority=data["authority"],
            legal_basis=data["legal_basis"],
            evidence_reference=data["evidence_reference"],
            grantable_amount=data["grantable_amount"] or None,
        )
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Item %(n)s is assessed.") % {"n": item.position})
    return redirect("web:application", reference=reference)
