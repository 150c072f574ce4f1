"""The ombud portal: own cases, a new application, komplettering at a glance."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from core.exceptions import WorkflowError
from core.roles import Role
from fund.models import Fund
from fund.states import State
from web.access import page
from web.forms import PersonForm
from web.selectors import ombud_cases, own_cases_matching
from web.typed_searches import SEARCH_PARAMETER, recalled_search, remember_search
from web.views.ombud_edit import (
    Problem,
    checked_items,
    chosen_fund,
    need_formset,
    open_funds,
    summary,
    typed,
    typed_rows,
)
from workflows import services, step_inputs
from workflows.completion import ItemEdit


@page(Role.OMBUD, methods=("GET", "POST"))
def ombud_home(request: HttpRequest) -> HttpResponse:
    """The ombud's cases. A search is posted and kept on the server like the worklist's
    (:mod:`web.typed_searches`): the address carries its token, not what was typed."""
    if request.method == "POST":
        token = remember_search(request, str(request.POST.get("q", ""))[:40])
        address = reverse("web:ombud_home") + (f"?{SEARCH_PARAMETER}={token}" if token else "")
        return HttpResponseRedirect(address, status=303)
    search = recalled_search(request, str(request.GET.get(SEARCH_PARAMETER, ""))[:40])
    cases = list(ombud_cases(request.user))
    shown = own_cases_matching(cases, search) if search else cases
    return render(
        request,
        "web/ombud_home.html",
        {
            "cases": shown,
            "search": search,
            "waiting_for_me": [
                c
                for c in cases
                if getattr(c, "open_requests", 0) or c.state in (State.AWAITING_OMBUD, State.DRAFT)
            ],
        },
    )


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.OMBUD, methods=("GET", "POST"))
def new_application(request: HttpRequest) -> HttpResponse:
    """One form: the fund (its categories and limits shown once chosen), the person and the
    items; a refused form comes back with everything typed and every problem at its field."""
    funds = open_funds()
    data = request.POST if request.method == "POST" else None
    fund_id = (request.POST if data is not None else request.GET).get("fund", "")
    fund = chosen_fund(funds, fund_id)
    person_form = PersonForm(data, prefix="person")
    needs = need_formset(data, fund=fund)
    problems: list[Problem] = []
    # Without JavaScript, choosing the fund is a load of its own: show its categories, with
    # what was typed so far and nothing marked as wrong yet.
    choosing = data is not None and bool(request.POST.get("choose_fund"))
    if choosing:
        person_form = PersonForm(prefix="person", initial=typed(request.POST, "person", PersonForm))
        needs = need_formset(None, fund=fund, initial=typed_rows(request.POST))
    if data is not None and not choosing:
        edits, general = checked_items(needs, fund)
        person_form.is_valid()
        if fund is None:
            problems.append(Problem(_("Choose the fund you apply to."), "fund"))
        problems += summary(person_form, needs, general=general)
        if fund is not None and not problems:
            try:
                return _create(request, fund, person_form.cleaned_data, edits)
            except WorkflowError as error:
                problems = [Problem(message) for message in error.messages]
    return render(
        request,
        "web/new_application.html",
        {
            "funds": funds,
            "fund_id": str(fund.pk) if fund else "",
            "fund": fund,
            "fund_missing": data is not None and not choosing and fund is None,
            "person_form": person_form,
            "needs": needs,
            "problems": problems,
            "general_problems": [p.message for p in problems if not p.anchor],
        },
        status=400 if problems else 200,
    )


@sensitive_variables()
def _create(
    request: HttpRequest, fund: Fund, person: dict[str, Any], edits: list[ItemEdit]
) -> HttpResponse:
    items = [
        services.NeedInput(category=e.category, amount=e.amount, description=e.description)
        for e in edits
    ]
    with transaction.atomic():
        beneficiary = services.register_beneficiary(actor=request.user, **person)
        # Only a person the ombud already has a case of is found again.
        known = beneficiary.applications.exists()
        app = services.create_application(
            actor=request.user, fund=fund, beneficiary=beneficiary, items=items
        )
        if request.POST.get("submit_now"):
            services.transition(app, actor=request.user, step=step_inputs.Submit())
    if known:
        messages.info(
            request,
            _(
                "%(ref)s is already registered with this personal identity number: "
                "the details registered before are kept."
            )
            % {"ref": beneficiary.reference},
        )
    messages.success(request, _("Application %(ref)s is saved.") % {"ref": app.reference})
    return redirect("web:application", reference=app.reference)
