"""Admin for co-financed projects; time sheets are imported through the import service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from cofinancing.models import (
    BudgetLine,
    EsfClaim,
    FundingSource,
    Partner,
    Project,
    TimeSheetEntry,
)
from cofinancing.resources import FORMATS, TimeSheetResource
from cofinancing.services import import_time_sheets
from core.exceptions import ValidationFailed, WorkflowError
from core.uploads import validate_upload_size


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0


class FundingSourceInline(admin.TabularInline):
    model = FundingSource
    extra = 0


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "case_number", "start", "end", "esf_rate_percent")
    inlines = [PartnerInline, FundingSourceInline, BudgetLineInline]


class TimeSheetImportForm(forms.Form):
    file = forms.FileField(label=_("File"), validators=[validate_upload_size])
    format = forms.ChoiceField(label=_("Format"), choices=[(f, f.upper()) for f in FORMATS])
    commit = forms.BooleanField(label=_("Import (unticked: only check the file)"), required=False)


@admin.register(TimeSheetEntry)
class TimeSheetEntryAdmin(ExportMixin, admin.ModelAdmin):
    """Export with django-import-export; import only through the all-or-nothing service.

    Entries are never added, changed or deleted here: the import records them with its
    audit event, the project report sums them, and the database refuses UPDATE and DELETE.
    """

    resource_classes = [TimeSheetResource]
    list_display = ("project", "partner", "person_ref", "month", "hours", "hourly_rate")
    list_filter = ("project", "partner")
    import_export_change_list_template = "admin/cofinancing/timesheetentry/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="cofinancing_timesheetentry_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        form = TimeSheetImportForm(request.POST or None, request.FILES or None)
        result: Any = None
        problem = ""
        if request.method == "POST" and form.is_valid():
            try:
                result = import_time_sheets(
                    form.cleaned_data["file"].read(),
                    format=form.cleaned_data["format"],
                    actor=request.user,
                    dry_run=not form.cleaned_data["commit"],
                )
            except ValidationFailed as exc:  # the file as a whole: shown at the file field
                form.add_error("file", exc.messages)
            except WorkflowError as exc:
                problem = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import time sheets"),
            "form": form,
            "result": result,
            "problem": problem,
        }
        return TemplateResponse(request, "admin/cofinancing/import_time_sheets.html", context)


@admin.register(EsfClaim)
class EsfClaimAdmin(admin.ModelAdmin):
    """Read only: claims are recorded by ``record_esf_claim`` (command ``esf_claim``) with
    their audit event, and the database refuses UPDATE and DELETE."""

    list_display = (
        "project",
        "number",
        "period_from",
        "period_to",
        "submitted_on",
        "amount",
        "reference",
        "recorded_at",
    )
    list_filter = ("project",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
