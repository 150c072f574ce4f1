"""Taking the books out: SIE 4 / 4I and the ledger, through the accounting export services."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.exports.services import export_ledger_file, export_sie_file
from web.access import page
from web.views.common import show_refusal
from workflows.exceptions import WorkflowError
from workflows.roles import Role

#: kind -> (file suffix, content type)
KINDS = {
    "sie4": (".se", "application/octet-stream"),
    "sie4i": (".si", "application/octet-stream"),
    "csv": (".csv", "text/csv; charset=utf-8"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What to export"),
        choices=[
            ("sie4", _("SIE 4: the ledger with balances")),
            ("sie4i", _("SIE 4I: vouchers for the bookkeeping program")),
            ("csv", _("Ledger, CSV")),
            ("xlsx", _("Ledger, Excel")),
        ],
    )
    year = forms.IntegerField(label=_("Financial year"), min_value=2000, max_value=2100)


@page(Role.TREASURER, Role.ADMINISTRATOR, methods=("GET", "POST"))
def exports(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        kind, year = form.cleaned_data["kind"], form.cleaned_data["year"]
        suffix, content_type = KINDS[kind]
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"fundflow-{kind}-{year}{suffix}"
            try:
                if kind.startswith("sie"):
                    export_sie_file(path, year=year, sie_type=kind[3:].upper(), actor=request.user)
                else:
                    export_ledger_file(
                        path,
                        fmt=kind,
                        date_from=dt.date(year, 1, 1),
                        date_to=dt.date(year, 12, 31),
                        actor=request.user,
                    )
            except WorkflowError as error:
                show_refusal(request, error)
            else:
                response = HttpResponse(path.read_bytes(), content_type=content_type)
                response["Content-Disposition"] = f'attachment; filename="{path.name}"'
                return response
    return render(request, "web/exports.html", {"form": form})
