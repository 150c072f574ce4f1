"""The treasurer's co-financing page: ESF income accrued, money received, claims recorded,
and the project report downloaded (treasurers and auditors).

The year-end refuses a year whose ESF income is earned and not booked: this page is where a
treasurer books it. It shows projects and partners only, never a person.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.exports.jobs import CONTENT_TYPES
from cofinancing.esf_claims import record_esf_claim
from cofinancing.esf_income import accrue_esf_income, receive_esf_payment
from cofinancing.models import Project
from cofinancing.selectors import (
    PROJECT_END,
    ProjectEsfFigures,
    co_financing_overview,
    voucher_summary,
)
from cofinancing.services import export_report, get_project
from core.exceptions import WorkflowError
from core.roles import Role
from web.access import page
from web.forms import CofinancingReportForm, EsfAccrualForm, EsfClaimForm, EsfReceiptForm
from web.views.common import form_problems, show_refusal


def _accrue(project: Project, user: Any, data: dict[str, Any]) -> tuple[str, str]:
    up_to: dt.date = data["up_to"]
    voucher = accrue_esf_income(project, actor=user, up_to=up_to)
    if voucher is None:
        return "info", _(
            "Nothing to book: the ESF income of project %(p)s is booked up to %(d)s."
        ) % {"p": project.code, "d": up_to.isoformat()}
    return "success", _("ESF income of project %(p)s accrued up to %(d)s: %(v)s.") % {
        "p": project.code,
        "d": up_to.isoformat(),
        "v": voucher_summary(voucher),
    }


def _receive(project: Project, user: Any, data: dict[str, Any]) -> tuple[str, str]:
    voucher = receive_esf_payment(
        project, actor=user, amount=data["amount"], date=data["date"], reference=data["reference"]
    )
    return "success", _("Money received for project %(p)s booked: %(v)s.") % {
        "p": project.code,
        "v": voucher_summary(voucher),
    }


def _claim(project: Project, user: Any, data: dict[str, Any]) -> tuple[str, str]:
    claim = record_esf_claim(
        project,
        actor=user,
        period_to=data["period_to"],
        amount=data["amount"],
        submitted_on=data["submitted_on"],
        reference=data["reference"],
    )
    return "success", _("Claim %(n)s for %(f)s - %(t)s recorded: %(a)s.") % {
        "n": claim.number,
        "f": claim.period_from.isoformat(),
        "t": claim.period_to.isoformat(),
        "a": claim.amount.amount,
    }


Booking = Callable[[Project, Any, dict[str, Any]], tuple[str, str]]
ACTIONS: dict[str, tuple[type[forms.Form], Booking]] = {
    "accrue": (EsfAccrualForm, _accrue),
    "receive": (EsfReceiptForm, _receive),
    "claim": (EsfClaimForm, _claim),
}


def _project_forms(figures: ProjectEsfFigures, today: dt.date) -> dict[str, Any]:
    """The three booking forms and the report form of one project, with ids of their own."""
    project = figures.project
    code = project.code

    def ids(action: str) -> str:
        return f"{action}-{code}-%s"

    return {
        "figures": figures,
        "accrual_is_project_end": figures.accrue_to_reason == PROJECT_END,
        "accrue": EsfAccrualForm(
            initial={"project": code, "up_to": figures.accrue_to}, auto_id=ids("accrue")
        ),
        "receive": EsfReceiptForm(initial={"project": code, "date": today}, auto_id=ids("receive")),
        "claim": EsfClaimForm(
            initial={"project": code, "submitted_on": today}, auto_id=ids("claim")
        ),
        "report": CofinancingReportForm(
            initial={"project": code, "date_from": project.start, "date_to": figures.accrue_to},
            projects=[code],
            auto_id=ids("report"),
        ),
    }


@page(Role.TREASURER)
def cofinancing_view(request: HttpRequest) -> HttpResponse:
    """Per project: the ESF figures, and the forms that book income, money and claims."""
    today = timezone.localdate()
    projects = [_project_forms(figures, today) for figures in co_financing_overview(today)]
    return render(request, "web/cofinancing.html", {"projects": projects, "today": today})


@page(Role.TREASURER, methods=("POST",))
def cofinancing_action(request: HttpRequest, action: str) -> HttpResponse:
    """Accrue, receive or claim for one project: the service decides, its refusal is shown."""
    if action not in ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("web:cofinancing")
    form_class, book = ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:cofinancing")
    try:
        project = get_project(form.cleaned_data["project"])
        level, message = book(project, request.user, form.cleaned_data)
    except WorkflowError as error:
        show_refusal(request, error)
        return redirect("web:cofinancing")
    if level == "success":
        messages.success(request, message)
    else:
        messages.info(request, message)
    return redirect(f"{reverse('web:cofinancing')}#project-{project.code}")


@page(Role.TREASURER, Role.AUDITOR)
def cofinancing_report(request: HttpRequest) -> HttpResponseBase:
    """The project report as a file for a period; without a period, the form asking for one.

    Written through ``export_report`` (the role check, the refusal of a report with errors
    unless a draft, the audit event with the file's hash) into a private temporary folder,
    then streamed: the open file outlives the folder.
    """
    codes = list(Project.objects.order_by("code").values_list("code", flat=True))
    form = CofinancingReportForm(request.GET or None, projects=codes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with tempfile.TemporaryDirectory(prefix="cofinancing-report-") as folder:
                path = Path(folder) / f"report.{data['fmt']}"
                export_report(
                    path,
                    project=get_project(data["project"]),
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    fmt=data["fmt"],
                    actor=request.user,
                    draft=data["draft"],
                )
                handle = path.open("rb")
        except WorkflowError as error:
            show_refusal(request, error)
        else:
            name = f"{data['project']}-{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}"
            return FileResponse(
                handle,
                as_attachment=True,
                filename=f"{name}.{data['fmt']}",
                content_type=CONTENT_TYPES[data["fmt"]],
            )
    return render(request, "web/cofinancing_report.html", {"form": form})
