"""django-import-export resources of the co-financing app: the time-sheet import.

Columns: ``project`` (code), ``partner`` (organisation number), ``person`` (pseudonymous id),
``pay_group``, ``month`` (YYYY-MM), ``hours`` (whole), ``hourly_rate`` (SEK), ``attestation``.
Each widget refuses what it cannot read with a message for people; the model's
``full_clean`` adds its own checks (person id, constraints, already imported).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from accounting.exports.resources import MoneyWidget
from cofinancing.models import Partner, Project, TimeSheetEntry
from workflows.exceptions import ValidationFailed

FORMATS = ("csv", "xlsx")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class ProjectWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Project:
        if _empty(value):
            raise ValueError(_("The project is missing."))
        project = Project.objects.filter(code=str(value).strip()).first()
        if project is None:
            raise ValueError(_("Unknown project “%(v)s”.") % {"v": value})
        return project

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.code if value else ""


class PartnerWidget(widgets.Widget):
    """A partner by organisation number, within the row's project."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Partner:
        if _empty(value):
            raise ValueError(_("The partner (organisation number) is missing."))
        code = str((row or {}).get("project") or "").strip()
        partner = Partner.objects.filter(project__code=code, org_number=str(value).strip()).first()
        if partner is None:
            raise ValueError(
                _("%(v)s is not a partner of the project %(p)s.") % {"v": value, "p": code}
            )
        return partner

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.org_number if value else ""


class MonthWidget(widgets.Widget):
    """``YYYY-MM`` (or a date from a spreadsheet) as the first day of that month."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.replace(day=1)
        match = _MONTH.match(str(value or "").strip())
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(_("“%(v)s” is not a month (YYYY-MM).") % {"v": value})
        return dt.date(int(match.group(1)), int(match.group(2)), 1)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return f"{value:%Y-%m}" if value else ""


class WholeHoursWidget(widgets.Widget):
    """Whole hours, more than zero: 7.5 is refused, never rounded silently."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:
        if _empty(value):
            raise ValueError(_("The hours are missing."))
        try:
            hours = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError(_("“%(v)s” is not a number of hours.") % {"v": value}) from exc
        if not hours.is_finite():
            raise ValueError(_("“%(v)s” is not a number of hours.") % {"v": value})
        if hours != hours.to_integral_value():
            raise ValueError(
                _("%(v)s: only whole hours are reported (round down, e.g. 7.5 → 7).") % {"v": value}
            )
        if hours <= 0:
            raise ValueError(_("%(v)s: the hours must be more than 0.") % {"v": value})
        return int(hours)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class TimeSheetResource(resources.ModelResource):
    project = fields.Field(attribute="project", column_name="project", widget=ProjectWidget())
    partner = fields.Field(attribute="partner", column_name="partner", widget=PartnerWidget())
    person = fields.Field(attribute="person_ref", column_name="person")
    pay_group = fields.Field(attribute="pay_group", column_name="pay_group")
    month = fields.Field(attribute="month", column_name="month", widget=MonthWidget())
    hours = fields.Field(attribute="hours", column_name="hours", widget=WholeHoursWidget())
    hourly_rate = fields.Field(
        attribute="hourly_rate", column_name="hourly_rate", widget=MoneyWidget()
    )
    attestation = fields.Field(attribute="attestation_ref", column_name="attestation")

    class Meta:
        model = TimeSheetEntry
        fields = (
            "project",
            "partner",
            "person",
            "pay_group",
            "month",
            "hours",
            "hourly_rate",
            "attestation",
        )
        import_order = fields
        export_order = fields
        force_init_instance = True
        clean_model_instances = True

    def __init__(self, import_sha256: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.import_sha256 = import_sha256
        self.projects_seen: set[str] = set()
        self._seen: dict[tuple[Any, ...], int] = {}
        self._row_number = 0

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        self._row_number = kwargs.get("row_number") or self._row_number + 1

    def validate_instance(
        self,
        instance: TimeSheetEntry,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        errors = dict(import_validation_errors or {})
        project = instance.project if instance.project_id else None
        if (
            project is not None
            and instance.month
            and "month" not in errors
            and not project.start.replace(day=1) <= instance.month <= project.end
        ):
            errors["month"] = ValidationError(
                _("%(m)s is outside the project's period %(s)s - %(e)s.")
                % {"m": f"{instance.month:%Y-%m}", "s": project.start, "e": project.end}
            )
        if not errors:
            key = (instance.project_id, instance.partner_id, instance.person_ref, instance.month)
            first = self._seen.get(key)
            if first is not None:
                # A list: full_clean's own non-field errors are appended to it.
                errors["__all__"] = [
                    ValidationError(
                        _("Duplicate: the same project, partner, person and month as row %(r)s.")
                        % {"r": first}
                    )
                ]
            else:
                self._seen[key] = self._row_number
        super().validate_instance(instance, errors or None, validate_unique)
        instance.import_sha256 = self.import_sha256
        if project is not None:
            self.projects_seen.add(project.code)


def load_dataset(data: bytes, format: str) -> tablib.Dataset:
    """Read the uploaded bytes; a file that is not the named format is refused as a whole."""
    if format not in FORMATS:
        raise ValidationFailed(_("Time sheets are imported from CSV or XLSX."))
    try:
        if format == "csv":
            text = data.decode("utf-8-sig")
            return tablib.Dataset().load(text, format="csv")
        return tablib.Dataset().load(data, format="xlsx")
    except Exception as exc:  # a broken upload fails in many ways inside tablib/openpyxl
        raise ValidationFailed(
            _("The file could not be read as %(f)s.") % {"f": format.upper()}
        ) from exc
