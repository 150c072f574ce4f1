"""The bank's answer uploaded on the treasurer's pages: posted and its result shown in one
page load, per payment, as ``accounting.bank_status`` reports it (the same as the API)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounting.bank_status import StatusReport, import_bank_file
from core.exceptions import WorkflowError
from core.roles import Role
from web.access import page
from web.forms import BankFileForm

#: Each entry's result in words (the codes are the API's).
RESULT_LABELS = {
    "booked": _("Booked"),
    "refused": _("Rejected or returned"),
    "exception": _("Bank exception"),
    "pending": _("Not booked yet"),
    "not_matched": _("Not ours"),
    "unchanged": _("Unchanged"),
}


@page(Role.TREASURER, methods=("POST",))
def bank_file_upload(request: HttpRequest) -> HttpResponse:
    """Import a pain.002 or camt.054 file and show what it did to each payment (the form is
    on the payouts page; a refusal comes back with the importer's words, status 400)."""
    form = BankFileForm(request.POST, request.FILES)
    report: StatusReport | None = None
    refusal: list[str] = []
    if form.is_valid():
        try:
            report = import_bank_file(form.cleaned_data["file"].read(), actor=request.user)
        except WorkflowError as error:
            refusal = list(error.messages)
    entries = [
        {"entry": entry, "label": RESULT_LABELS.get(entry.result, entry.result)}
        for entry in (report.entries if report else [])
    ]
    return render(
        request,
        "web/bank_file.html",
        {
            "form": BankFileForm() if report else form,
            "report": report,
            "entries": entries,
            "refusal": refusal,
        },
        status=200 if report else 400,
    )
