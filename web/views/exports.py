"""Taking the books out: SIE 4 / 4I and the ledger, written by a worker as export jobs.

The form starts an ``ExportJob`` (``accounting.exports.jobs.start_export``) and redirects to
the job's page, which polls a small partial with htmx until the job has finished and then
offers the file for download.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.exports import jobs
from accounting.models import ExportJob, ExportKind, ExportStatus
from core.exceptions import WorkflowError
from core.roles import Role
from web.access import page
from web.views.common import show_refusal


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What to export"),
        choices=[
            (ExportKind.SIE4, _("SIE 4: the ledger with balances")),
            (ExportKind.SIE4I, _("SIE 4I: vouchers for the bookkeeping program")),
            (ExportKind.LEDGER_CSV, _("Ledger, CSV")),
            (ExportKind.LEDGER_XLSX, _("Ledger, Excel")),
            (ExportKind.LEDGER_JSONL, _("Ledger, JSON Lines")),
        ],
    )
    year = forms.IntegerField(label=_("Financial year"), min_value=2000, max_value=2100)


@page(Role.TREASURER, Role.ADMINISTRATOR, methods=("GET", "POST"))
def exports(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        kind, year = form.cleaned_data["kind"], form.cleaned_data["year"]
        if kind in jobs.SIE_KINDS:
            params = {"year": year}
        else:
            params = {"date_from": dt.date(year, 1, 1), "date_to": dt.date(year, 12, 31)}
        try:
            job = jobs.start_export(actor=request.user, kind=kind, **params)
        except WorkflowError as error:
            show_refusal(request, error)
        else:
            return redirect("web:export_job", pk=job.pk)
    recent = ExportJob.objects.select_related("created_by")[:10]
    return render(request, "web/exports.html", {"form": form, "jobs": recent})


def _job(pk: uuid.UUID) -> ExportJob:
    return get_object_or_404(ExportJob.objects.select_related("created_by"), pk=pk)


@page(Role.TREASURER, Role.ADMINISTRATOR)
def export_job(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return render(request, "web/export_job.html", {"job": _job(pk)})


@page(Role.TREASURER, Role.ADMINISTRATOR)
def export_job_progress(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The progress fragment the job page polls; it stops polling once the job finished."""
    return render(request, "web/partials/export_progress.html", {"job": _job(pk)})


@page(Role.TREASURER, Role.ADMINISTRATOR)
def export_job_file(request: HttpRequest, pk: uuid.UUID) -> FileResponse:
    job = _job(pk)
    path = Path(job.file_path)
    if job.status != ExportStatus.DONE or not job.file_path or not path.is_file():
        raise Http404
    extension = path.suffix.lstrip(".")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=jobs.download_name(job),
        content_type=jobs.CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
