"""The officer's workbench and the application page (shared by every role on the case)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from core.exceptions import TransitionNotAvailable, WorkflowError
from core.roles import Role, roles_of
from fund.case_scope import may_act_as
from fund.models import Application, NeedItem
from fund.privacy import AccessPurpose, access_problem, read_personal_data
from fund.states import State
from web import step_messages
from web.access import HANDLERS, page
from web.forms import (
    AssessmentForm,
    AttestForm,
    BulkActionForm,
    CompletionForm,
    DecisionItemForm,
    FollowUpForm,
    GiveUpPayoutForm,
    PayoutFailedForm,
    ReasonForm,
    SavedFilterForm,
    WorklistFilterForm,
)
from web.saved_filters import known_filter_query, saved_filters
from web.selectors import (
    WorklistQuery,
    funds_of,
    officers_in,
    revoked_ombud_case_count,
    visible_application,
    worklist,
)
from web.typed_searches import SEARCH_PARAMETER, recalled_search, remember_search
from web.views.case_access import case_access_context
from web.views.common import form_problems, is_htmx, show_refusal
from web.views.follow_up import FOLLOW_UP_IDS, follow_up_context
from workflows import services, step_inputs
from workflows.assignment import assign_officer
from workflows.completion import completion_requests_of
from workflows.decision_trail import decision_trail
from workflows.models import Decision, DecisionItem, DecisionStatus, Obligation

# --- worklist -------------------------------------------------------------------------


@page(*HANDLERS, methods=("GET", "POST"))
def worklist_view(request: HttpRequest) -> HttpResponse:
    """The worklist. The search text comes by POST and is kept on the server
    (:mod:`web.typed_searches`): the address, its links and the access log carry only its
    token, never a name or a personnummer. A posted search answers htmx with the table (and
    the address to show), a plain form with a redirect to that address."""
    funds = list(funds_of(request.user))
    officers = list(officers_in(funds_of(request.user)))
    posted = request.method == "POST"
    params = _worklist_params(request.POST if posted else request.GET)
    if posted:
        params.pop("page", None)  # a new search or filter starts on its first page
        token = remember_search(request, str(request.POST.get("q", ""))[:100])
    else:
        token = str(request.GET.get(SEARCH_PARAMETER, ""))[:40]
    search = recalled_search(request, token)
    if search:
        params[SEARCH_PARAMETER] = token
    address = reverse("web:worklist") + (f"?{params.urlencode()}" if params else "")
    if posted and not is_htmx(request):
        return HttpResponseRedirect(address, status=303)
    bound = params.copy()
    if search:
        bound["q"] = search
    form = WorklistFilterForm(bound or None, funds=funds, officers=officers)
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
            search=data["q"] or "",
            mine=bool(data["mine"]),
            awaiting_signature=bool(data["awaiting_signature"]),
        )
    rows = worklist(request.user, query, funds=funds)
    params.pop("page", None)
    context = {
        "form": form,
        "query": query,
        "rows": rows,
        "officers": officers,
        "query_string": params.urlencode(),
        "here": address,
        "filter_query": known_filter_query(params.urlencode()),
        "saved_filters": list(saved_filters(request.user)),
        "save_form": SavedFilterForm(),
        "may_bulk": Role.OFFICER in _roles(request),
        "revoked_ombud_cases": revoked_ombud_case_count(request.user),
    }
    template = "web/partials/worklist_table.html" if is_htmx(request) else "web/worklist.html"
    response = render(request, template, context)
    if posted:
        response["HX-Push-Url"] = address
    return response


def _worklist_params(given: QueryDict) -> QueryDict:
    """The filters, sort and page as given; never the search text (it has its token)."""
    params = QueryDict(mutable=True)
    for name in (*WorklistFilterForm.SAVED, "page"):
        value = str(given.get(name, "")).strip()
        if value:
            params[name] = value[:40]
    return params


def _roles(request: HttpRequest) -> frozenset[str]:
    return roles_of(request.user)


@page(Role.OFFICER, methods=("POST",))
def bulk_view(request: HttpRequest) -> HttpResponse:
    officers = officers_in(funds_of(request.user))
    form = BulkActionForm(request.POST, officers=officers, host=request.get_host())
    back = form.cleaned_back() or reverse("web:worklist")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
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
        except TransitionNotAvailable:
            messages.error(request, bulk_not_possible(action, app))
        except WorkflowError as error:
            for message in error.messages:
                messages.error(request, f"{reference}: {message}")
        else:
            done += 1
    if done:
        messages.success(request, bulk_done(action, done, officer))
    return redirect(back)


def bulk_not_possible(action: str, app: Application) -> str:
    """Why a bulk step was not taken for one case, in words (not the step's code)."""
    app.refresh_from_db(fields=["state"])
    if action == "assign":
        return _("%(ref)s could not be assigned while the application is “%(state)s”.") % {
            "ref": app.reference,
            "state": State(app.state).label,
        }
    return _(
        "%(ref)s: the ombud cannot be asked to attest while the application is “%(state)s”."
    ) % {"ref": app.reference, "state": State(app.state).label}


def bulk_done(action: str, count: int, officer: Any) -> str:
    """What a bulk action did: how many cases, and to whom they were assigned."""
    if action == "assign":
        return ngettext(
            "%(n)s application assigned to %(officer)s.",
            "%(n)s applications assigned to %(officer)s.",
            count,
        ) % {"n": count, "officer": officer.get_full_name() or officer.get_username()}
    return ngettext(
        "The ombud was asked to attest %(n)s application.",
        "The ombuds were asked to attest %(n)s applications.",
        count,
    ) % {"n": count}


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
#: The one button that decides (the outcome follows from the items).
DECIDE = "decide"

ItemForms = list[tuple[NeedItem, Any]]


@sensitive_variables()
@page(Role.OMBUD, Role.OFFICER, Role.DECISION_MAKER, Role.TREASURER)
def application_view(request: HttpRequest, reference: str) -> HttpResponse:
    return _application_page(request, _application(request, reference))


def _application_page(
    request: HttpRequest,
    app: Application,
    *,
    assessment_forms: ItemForms | None = None,
    decision_forms: ItemForms | None = None,
    follow_up_form: FollowUpForm | None = None,
    problems: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    """The page, with the forms as typed and the refusal's problems when a POST was refused."""
    available = services.available_transitions(app, actor=request.user)
    items = list(app.items.select_related("statutory_assessment").order_by("position"))
    pending = (
        app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE)
        .prefetch_related(
            "signatures__signer",
            Prefetch(
                "items",
                queryset=DecisionItem.objects.select_related(
                    "need_item__application__beneficiary"
                ).order_by("need_item__position"),
            ),
        )
        .first()
    )
    texts_visible = _case_texts_visible(request, app)
    decisions = [name for name in DECISIONS if name in available]
    follow_up = follow_up_context(request, app, texts_visible=texts_visible, form=follow_up_form)
    context = {
        "app": app,
        "state_label": (
            _("Awaiting a second signature") if pending is not None else State(app.state).label
        ),
        "texts_visible": texts_visible,
        "items": items,
        "attestations": list(app.attestations.select_related("ombud__user")),
        "completion_requests": completion_requests_of(app),
        "pending_decision": pending,
        "pending_items": list(pending.items.all()) if pending is not None else [],
        "trail": decision_trail(app),
        "buttons": [
            (name, step_messages.confirm_text(name, app))
            for name in available
            if name not in DECISIONS and name not in TRANSITION_FORMS
        ],
        "forms": [
            (name, form(auto_id=f"{name}_%s"), step_messages.confirm_text(name, app))
            for name, form in TRANSITION_FORMS.items()
            if name in available
        ],
        "decisions": decisions,
        "problems": problems,
        "may_assess": app.state == State.STATUTORY_CHECK
        and may_act_as(request.user, Role.OFFICER, app),
        "assessment_forms": assessment_forms
        or _assessment_forms(items, texts_visible, evidence_hidden=not texts_visible),
        **_decision_context(request, app, items, pending, decisions, decision_forms),
        **case_access_context(request, app),
        **follow_up,
    }
    return render(request, "web/application.html", context, status=status)


def _decision_context(
    request: HttpRequest,
    app: Application,
    items: list[NeedItem],
    pending: Decision | None,
    decisions: list[str],
    decision_forms: ItemForms | None,
) -> dict[str, Any]:
    """The decision form (no decision pending), or what the co-signer signs (one pending)."""
    if not decisions:
        return {"may_decide": False, "may_sign": False}
    if pending is not None:
        signed = request.user.pk in {s.signer_id for s in pending.signatures.all()}
        return {
            "may_decide": False,
            "may_sign": not signed,
            "sign_question": step_messages.sign_question(app, pending),
        }
    return {
        "may_decide": True,
        "may_sign": False,
        "decision_forms": decision_forms
        or [(item, DecisionItemForm(prefix=f"item{item.pk}")) for item in items],
        "decide_question": step_messages.decide_question(app, _("as chosen above")),
        "decide_question_template": step_messages.decide_question(app),
        "summary_templates": step_messages.summary_templates(),
    }


def _assessment_forms(
    items: list[NeedItem], texts_visible: bool, data: Any = None, *, evidence_hidden: bool
) -> ItemForms:
    forms = [
        (
            item,
            AssessmentForm(
                data, prefix=f"item{item.pk}", initial=_assessment_initial(item, texts_visible)
            ),
        )
        for item in items
    ]
    if evidence_hidden:
        for item, form in forms:
            _hint_at_hidden_evidence(item, form)
    return forms


def _hint_at_hidden_evidence(item: NeedItem, form: AssessmentForm) -> None:
    """An evidence reference hidden from the officer comes as an empty field: say that
    leaving it empty keeps it (``record_statutory_assessments`` does)."""
    assessment = getattr(item, "statutory_assessment", None)
    if assessment is not None and assessment.encrypted_evidence_reference:
        form.fields["evidence_reference"].help_text = _(
            "A reference is saved but not shown to you: leave the field empty to keep it."
        )


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
    if assessment.outcome == Obligation.PARTLY:
        initial["grantable_amount"] = _as_typed(assessment.grantable_amount.amount)
    if texts_visible:
        initial["evidence_reference"] = assessment.evidence_reference
    return initial


def _as_typed(amount: Decimal) -> str:
    """An amount as a person types it into a field (a decimal comma in Swedish)."""
    text = f"{amount:.2f}"
    return text.replace(".", ",") if (get_language() or "sv").startswith("sv") else text


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
    elif name in DECISIONS and request.POST.get("decision"):
        data = {"decision": request.POST["decision"]}  # the co-signature names what was shown
    try:
        services.transition(app, actor=request.user, step=step_inputs.parse(name, data))
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, step_messages.done_message(name, app))
    return redirect("web:application", reference=reference)


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.OFFICER, methods=("POST",))
def assess_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Every item's statutory assessment in one form; a refusal shows the form as typed."""
    app = _application(request, reference)
    items = list(app.items.select_related("statutory_assessment").order_by("position"))
    forms = _assessment_forms(
        items,
        texts_visible=False,  # filled in from the post, nothing decrypted
        data=request.POST,
        evidence_hidden=not services.evidence_visible_to(app, actor=request.user),
    )
    if not all(form.is_valid() for _item, form in forms):
        return _application_page(request, app, assessment_forms=forms, status=400)
    given = [services.AssessmentInput(item=item.pk, **form.cleaned_data) for item, form in forms]
    send = request.POST.get("then") == SEND_TO_DECISION
    try:
        if send:
            services.assess_and_clear(app, actor=request.user, assessments=given)
        else:
            services.record_statutory_assessments(app, actor=request.user, assessments=given)
    except WorkflowError as error:
        _add_item_errors(forms, error)
        return _application_page(
            request, app, assessment_forms=forms, problems=_flat(error), status=error.status_code
        )
    if send:
        messages.success(request, _sent_to_decision(app, len(given)))
        return redirect("web:application", reference=app.reference)
    messages.success(
        request,
        ngettext(
            "The statutory assessment of %(n)s item in %(ref)s is saved.",
            "The statutory assessment of %(n)s items in %(ref)s is saved.",
            len(given),
        )
        % {"n": len(given), "ref": app.reference},
    )
    return redirect(reverse("web:application", args=[app.reference]) + "#assessment")


#: The assessment form's second button: save, then clear the case for decision (one post).
SEND_TO_DECISION = "decision"


def _sent_to_decision(app: Application, count: int) -> str:
    return ngettext(
        "The statutory assessment of %(n)s item in %(ref)s is saved and the case is sent to "
        "decision.",
        "The statutory assessment of %(n)s items in %(ref)s is saved and the case is sent to "
        "decision.",
        count,
    ) % {"n": count, "ref": app.reference}


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.DECISION_MAKER, methods=("POST",))
def decide_view(request: HttpRequest, reference: str) -> HttpResponse:
    """One decision from a verdict per item; a refusal shows every amount and reason typed."""
    app = _application(request, reference)
    items = list(app.items.select_related("statutory_assessment").order_by("position"))
    forms = [(item, DecisionItemForm(request.POST, prefix=f"item{item.pk}")) for item in items]
    if not all(form.is_valid() for _item, form in forms):
        return _application_page(request, app, decision_forms=forms, status=400)
    verdicts = [
        services.ItemVerdict(
            item=item.pk,
            verdict=form.cleaned_data["verdict"],
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["reason_text"],
        )
        for item, form in forms
    ]
    try:
        app = services.decide_items(app, actor=request.user, verdicts=verdicts)
    except WorkflowError as error:
        _add_item_errors(forms, error)
        return _application_page(
            request, app, decision_forms=forms, problems=_flat(error), status=error.status_code
        )
    messages.success(request, step_messages.decision_message(app))
    return redirect("web:application", reference=app.reference)


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.OFFICER, methods=("POST",))
def follow_up_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Record how the paid support was used; a refusal comes back at the form as typed."""
    app = _application(request, reference)
    form = FollowUpForm(request.POST, auto_id=FOLLOW_UP_IDS)
    if not form.is_valid():
        return _application_page(request, app, follow_up_form=form, status=400)
    try:
        follow_up = services.record_follow_up(
            app,
            actor=request.user,
            outcome=form.cleaned_data["outcome"],
            evidence_reference=form.cleaned_data["evidence_reference"],
        )
    except WorkflowError as error:
        return _application_page(
            request, app, follow_up_form=form, problems=error.messages, status=error.status_code
        )
    messages.success(
        request,
        _("The follow-up of %(ref)s is recorded: %(outcome)s. The case can now be closed.")
        % {"ref": app.reference, "outcome": follow_up.get_outcome_display()},
    )
    return redirect(reverse("web:application", args=[app.reference]) + "#follow-up")


def _add_item_errors(forms: ItemForms, error: WorkflowError) -> None:
    """A refusal per item and field goes to the field (shown there, with aria-invalid)."""
    by_item = getattr(error, "by_item", {})
    for item, form in forms:
        for field, field_messages in by_item.get(item.pk, {}).items():
            for message in field_messages:
                form.add_error(field if field in form.fields else None, message)


def _flat(error: WorkflowError) -> list[str]:
    """The problems no field shows: all of them unless they were put at the fields."""
    return [] if getattr(error, "by_item", None) else error.messages
