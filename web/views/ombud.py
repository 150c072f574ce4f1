"""The ombud portal: own cases, a new application, komplettering at a glance."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from core.exceptions import WorkflowError
from core.inputs import as_id
from core.roles import Role
from fund.models import Fund
from fund.states import State
from web.access import page
from web.forms import NeedFormSet, PersonForm
from web.selectors import ombud_cases, own_cases_matching
from web.views.common import form_problems, show_refusal
from workflows import services, step_inputs


@page(Role.OMBUD)
def ombud_home(request: HttpRequest) -> HttpResponse:
    search = " ".join(str(request.GET.get("q", ""))[:40].split())
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
    funds = Fund.objects.filter(active=True).order_by("name")
    person_form = PersonForm(request.POST or None, prefix="person")
    needs = NeedFormSet(request.POST or None, prefix="need")
    fund_id = request.POST.get("fund", "")
    if request.method == "POST":
        fund_pk = as_id(fund_id)
        fund = funds.filter(pk=fund_pk).first() if fund_pk else None
        if fund is None:
            messages.error(request, _("Choose the fund you apply to."))
        elif not person_form.is_valid() or not needs.is_valid():
            form_problems(request, person_form)
            form_problems(request, needs)
        else:
            items = [
                services.NeedInput(
                    category=row["category"],
                    amount=row["amount"],
                    description=row["description"],
                )
                for row in needs.cleaned_data
                if row and (row.get("category") or row.get("amount"))
            ]
            try:
                with transaction.atomic():
                    person = services.register_beneficiary(
                        actor=request.user, **person_form.cleaned_data
                    )
                    # Only a person the ombud already has a case of is found again.
                    known = person.applications.exists()
                    app = services.create_application(
                        actor=request.user, fund=fund, beneficiary=person, items=items
                    )
                    if request.POST.get("submit_now"):
                        services.transition(app, actor=request.user, step=step_inputs.Submit())
            except WorkflowError as error:
                show_refusal(request, error)
            else:
                if known:
                    messages.info(
                        request,
                        _(
                            "%(ref)s is already registered with this personal identity number: "
                            "the details registered before are kept."
                        )
                        % {"ref": person.reference},
                    )
                messages.success(
                    request, _("Application %(ref)s is saved.") % {"ref": app.reference}
                )
                return redirect("web:application", reference=app.reference)
    return render(
        request,
        "web/new_application.html",
        {
            "funds": funds,
            "fund_id": fund_id,
            "person_form": person_form,
            "needs": needs,
        },
        status=400 if request.method == "POST" else 200,
    )
