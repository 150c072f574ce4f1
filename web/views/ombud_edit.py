"""The ombud's item rows: a fund's categories and limits up front, every problem at its field,
and the one-page edit of a draft or of a case returned for komplettering.

The rules are the services' (``workflows.need_items``, ``workflows.fund_rules``); this module
only places their problems at the fields that caused them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.forms.formsets import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from core.exceptions import WorkflowError
from core.inputs import as_id
from core.roles import Role
from fund.models import Application, Fund, NeedItem
from fund.privacy import read_personal_data
from fund.states import State
from web.access import page
from web.forms import CompletionAnswerForm, NeedEditFormSet, NeedForm, NeedFormSet
from web.selectors import visible_application
from workflows.completion import ItemEdit, editable_problem, open_request, update_application
from workflows.need_items import check_need_items

#: The most item rows a form has (the formsets' ``max_num``).
NEED_ROWS_MAX = 10


@dataclass(frozen=True)
class Problem:
    """A problem for the summary at the top: its words and the field it links to."""

    message: str
    anchor: str = ""


def open_funds() -> Any:
    return Fund.objects.filter(active=True).order_by("name")


def chosen_fund(funds: Any, value: Any) -> Fund | None:
    pk = as_id(value)
    return funds.filter(pk=pk).first() if pk else None


def need_formset(
    data: Any, *, fund: Fund | None, initial: list[dict[str, Any]] | None = None
) -> BaseFormSet:
    """The item rows; with a fund, only its categories to choose from."""
    formset_class = NeedEditFormSet if initial is not None else NeedFormSet
    return formset_class(
        data,
        prefix="need",
        initial=initial,
        form_kwargs={"categories": fund.allowed_categories if fund else None},
    )


def checked_items(
    needs: BaseFormSet, fund: Fund | None, *, while_typing: bool = False
) -> tuple[list[ItemEdit], list[str]]:
    """The entered rows as edits; the fund's rules' problems are added at their fields.

    Returns the edits and the problems of the whole list (the total, no item at all).
    ``while_typing`` leaves out what the ombud has not typed yet.
    """
    needs.is_valid()
    rows = [form for form in needs.forms if form.is_entered()]
    edits = [
        ItemEdit(
            item=form.cleaned_data.get("item"),
            category=str(form.cleaned_data.get("category") or ""),
            amount=str(form.cleaned_data.get("amount") or ""),
            description=str(form.cleaned_data.get("description") or ""),
        )
        for form in rows
    ]
    if fund is None:
        return edits, []
    check = check_need_items(fund, edits, positions=[needs.forms.index(form) + 1 for form in rows])
    for (row, name), problems in check.at_field.items():
        form = rows[row]
        if while_typing and not str(form.data.get(form.add_prefix(name), "")).strip():
            continue
        for problem in problems:
            form.add_error(name, problem)
    general = list(check.general)
    if not rows and while_typing:
        general = []
    return edits, general


def summary(*forms: Any, general: Sequence[str] = ()) -> list[Problem]:
    """Every problem of the page, each linking to its field, in the order of the page."""
    problems = [Problem(str(message)) for message in general]
    for form in forms:
        each = form.forms if isinstance(form, BaseFormSet) else [form]
        if isinstance(form, BaseFormSet):
            problems += [Problem(str(e)) for e in form.non_form_errors()]
        for one in each:
            problems += [Problem(str(e)) for e in one.non_field_errors()]
            for name in one.fields:
                for error in one[name].errors:
                    problems.append(Problem(str(error), one[name].auto_id))
    return problems


def typed(data: Any, prefix: str, form_class: Any) -> dict[str, str]:
    """What was typed into a form, as its initial values (shown again, not yet checked)."""
    return {
        name: data.get(f"{prefix}-{name}", "")
        for name in form_class.base_fields
        if data.get(f"{prefix}-{name}", "")
    }


def typed_rows(data: Any) -> list[dict[str, str]]:
    """The item rows typed so far, as initial values (empty rows left out)."""
    rows = [typed(data, f"need-{n}", NeedForm) for n in range(NEED_ROWS_MAX)]
    return [row for row in rows if row]


def _amount_text(amount: Decimal) -> str:
    """An amount as the ombud would type it (no thousands separator, comma in Swedish)."""
    text = str(int(amount)) if amount == amount.to_integral() else f"{amount:.2f}"
    return text.replace(".", ",") if (get_language() or "sv").startswith("sv") else text


def _initial(items: list[NeedItem]) -> list[dict[str, Any]]:
    return [
        {
            "item": item.pk,
            "category": item.category,
            "amount": _amount_text(item.requested_amount.amount),
            "description": item.description,
        }
        for item in items
    ]


@page(Role.OMBUD, methods=("POST",))
def check_items(request: HttpRequest) -> HttpResponse:
    """The item rows checked as the ombud types (htmx): the fund's categories and limits,
    and each problem at its field; nothing is saved and no case is read."""
    fund = chosen_fund(open_funds(), request.POST.get("fund"))
    needs = need_formset(request.POST, fund=fund)
    _edits, general = checked_items(needs, fund, while_typing=True)
    return render(
        request,
        "web/partials/need_items.html",
        {"fund": fund, "needs": needs, "general_problems": general},
    )


@sensitive_post_parameters()
@sensitive_variables()
@page(Role.OMBUD, methods=("GET", "POST"))
def edit_application_view(request: HttpRequest, reference: str) -> HttpResponse:
    """One page: change the items, answer the komplettering, save or (re)submit."""
    app = visible_application(request.user, reference)
    if app is None:
        raise Http404
    refusal = editable_problem(app, actor=request.user)
    if refusal is not None:
        messages.error(request, refusal.messages[0])
        return redirect("web:application", reference=app.reference)
    try:  # the descriptions and the komplettering are the person's data: a logged read
        read_personal_data(app.beneficiary, actor=request.user, application=app, channel="page")
    except WorkflowError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("web:application", reference=app.reference)
    items = list(app.items.order_by("position"))
    request_open = open_request(app) if app.state == State.NEEDS_COMPLETION else None
    data = request.POST if request.method == "POST" else None
    needs = need_formset(data, fund=app.fund, initial=_initial(items))
    answer_form = (
        CompletionAnswerForm(data, prefix="completion", initial={"answer": request_open.answer})
        if request_open is not None
        else None
    )
    problems: list[Problem] = []
    if request.method == "POST":
        edits, general = checked_items(needs, app.fund)
        answer_ok = answer_form is None or answer_form.is_valid()
        problems = summary(needs, *([answer_form] if answer_form else []), general=general)
        if not problems and answer_ok:
            send = bool(request.POST.get("send"))
            try:
                app = update_application(
                    app,
                    actor=request.user,
                    items=edits,
                    answer=answer_form.cleaned_data["answer"] if answer_form else None,
                    send=send,
                )
            except WorkflowError as error:
                problems = [Problem(message) for message in error.messages]
            else:
                messages.success(request, _saved_message(app, sent=send))
                return redirect("web:application", reference=app.reference)
    return render(
        request,
        "web/edit_application.html",
        {
            "app": app,
            "fund": app.fund,
            "needs": needs,
            "answer_form": answer_form,
            "completion_request": request_open,
            "problems": problems,
            "general_problems": [p.message for p in problems if not p.anchor],
        },
        status=400 if problems else 200,
    )


def _saved_message(app: Application, *, sent: bool) -> str:
    if not sent:
        return _("Your changes to %(ref)s are saved.") % {"ref": app.reference}
    if app.submitted_at and app.state == State.SUBMITTED:
        return _("%(ref)s is submitted.") % {"ref": app.reference}
    return _("%(ref)s is sent back to the officer with your changes.") % {"ref": app.reference}
