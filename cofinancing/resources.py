"""django-import-export resources of the co-financing app: the time-sheet import.

Columns: ``project`` (code), ``partner`` (organisation number), ``person`` (pseudonymous id),
``pay_group``, ``month`` (YYYY-MM), ``hours`` (whole), ``hourly_rate`` (SEK), ``attestation``.
Each widget refuses what it cannot read with a message for people; the model's
``full_clean`` adds its own checks (person id, constraints, already imported).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from accounting.exports.resources import MoneyWidget
from cofinancing.models import Partner, Project, TimeSheetEntry
from cofinancing.xlsx_reader import read_rows, too_many_rows
from core.exceptions import ValidationFailed
from core.inputs import clean_text, shown

FORMATS = ("csv", "xlsx")
COLUMNS = (
    "project",
    "partner",
    "person",
    "pay_group",
    "month",
    "hours",
    "hourly_rate",
    "attestation",
)
#: Rows one file may hold (a project's time sheets for a year are a few hundred).
MAX_ROWS = 10_000
#: 31 days of 24 hours.
MAX_HOURS_A_MONTH = 744
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


#: What a spreadsheet would run as a formula if the cell were opened (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TextWidget(widgets.Widget):
    """A text cell: no control characters (NUL …), no formula, at most ``max_length``."""

    def __init__(self, column: str, max_length: int, *, required: bool = False, **kw: Any):
        self.column = column
        self.max_length = max_length
        self.required = required
        super().__init__(**kw)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = "" if value is None else str(value)
        if text.startswith(FORMULA_START):
            raise ValueError(
                _("“%(v)s” starts like a spreadsheet formula (= + - @); write it as plain text.")
                % {"v": shown(text)}
            )
        problems: list[str] = []
        text = clean_text(text, problems, field=self.column, max_length=self.max_length)
        if problems:
            raise ValueError(problems[0])
        if self.required and not text:
            raise ValueError(_("The %(column)s is missing.") % {"column": self.column})
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class RateWidget(MoneyWidget):
    """The hourly rate: an amount, never left empty."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if _empty(value):
            raise ValueError(_("The hourly rate is missing."))
        return super().clean(value, row, **kwargs)


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
        if hours > MAX_HOURS_A_MONTH:
            raise ValueError(
                _("%(v)s: a month has at most %(max)s hours.")
                % {"v": value, "max": MAX_HOURS_A_MONTH}
            )
        return int(hours)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class TimeSheetResource(resources.ModelResource):
    project = fields.Field(attribute="project", column_name="project", widget=ProjectWidget())
    partner = fields.Field(attribute="partner", column_name="partner", widget=PartnerWidget())
    person = fields.Field(
        attribute="person_ref", column_name="person", widget=TextWidget("person", 20, required=True)
    )
    pay_group = fields.Field(
        attribute="pay_group", column_name="pay_group", widget=TextWidget("pay_group", 40)
    )
    month = fields.Field(attribute="month", column_name="month", widget=MonthWidget())
    hours = fields.Field(attribute="hours", column_name="hours", widget=WholeHoursWidget())
    hourly_rate = fields.Field(
        attribute="hourly_rate", column_name="hourly_rate", widget=RateWidget()
    )
    attestation = fields.Field(
        attribute="attestation_ref",
        column_name="attestation",
        widget=TextWidget("attestation", 40, required=True),
    )

    class Meta:
        model = TimeSheetEntry
        fields = COLUMNS
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
    """Read the uploaded bytes; a file that is not the named format, has the wrong columns, or
    is too large is refused as a whole, with what is wrong."""
    if format not in FORMATS:
        raise ValidationFailed(_("Time sheets are imported from CSV or XLSX."))
    limit = settings.UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise ValidationFailed(
            _("The file is %(size)s; at most %(max)s can be imported at once.")
            % {"size": filesizeformat(len(data)), "max": filesizeformat(limit)}
        )
    if not data.strip():
        raise ValidationFailed(_("The file is empty."))
    dataset = _load_csv(data) if format == "csv" else _load_xlsx(data)
    if not len(dataset):
        raise ValidationFailed(_("The file has its header row but no time sheet rows."))
    if len(dataset) > MAX_ROWS:
        raise too_many_rows(MAX_ROWS)
    return dataset


def _load_csv(data: bytes) -> tablib.Dataset:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            _(
                "The file is not UTF-8 text (byte %(byte)s at position %(pos)s); "
                "save it as “CSV UTF-8”."
            )
            % {"byte": f"0x{data[exc.start]:02x}", "pos": exc.start}
        ) from exc
    if "\x00" in text:
        raise ValidationFailed(_("The file holds NUL bytes; it is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [row for row in reader if row]
    except csv.Error as exc:
        raise ValidationFailed(
            _("The file could not be read as CSV (line %(line)s): %(why)s")
            % {"line": reader.line_num, "why": exc}
        ) from exc
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    _check_columns(header)
    ragged = [
        _("Row %(row)s has %(n)s cells; the header has %(m)s.")
        % {"row": number, "n": len(row), "m": len(header)}
        for number, row in enumerate(body, start=1)
        if len(row) != len(header)
    ]
    if ragged:
        raise ValidationFailed(ragged[:20] + ([_("…")] if len(ragged) > 20 else []))
    return tablib.Dataset(*body[: MAX_ROWS + 1], headers=header)


def _load_xlsx(data: bytes) -> tablib.Dataset:
    header, rows = read_rows(data, max_rows=MAX_ROWS, columns=len(COLUMNS))
    _check_columns(header)
    return tablib.Dataset(*rows, headers=[str(h or "").strip() for h in header])


def _check_columns(headers: list[Any]) -> None:
    names = [str(h or "").strip() for h in headers]
    problems = []
    if len(names) == 1 and ";" in names[0]:
        problems.append(_("The columns are separated by “;”; separate them by commas."))
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    twice = sorted({n for n in names if names.count(n) > 1})
    if missing and not problems:
        problems.append(_("Columns missing: %(c)s.") % {"c": ", ".join(missing)})
    if unknown and not problems:
        problems.append(
            _("Unknown columns: %(c)s.") % {"c": ", ".join(shown(n, 30) for n in unknown[:10])}
        )
    if twice:
        problems.append(_("Columns named twice: %(c)s.") % {"c": ", ".join(twice)})
    if problems:
        problems.append(_("The first row must name the columns %(c)s.") % {"c": ", ".join(COLUMNS)})
        raise ValidationFailed(problems)
