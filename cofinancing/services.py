"""Co-financing actions: export the project report, import time sheets.

Both check the actor's role, do their work in one transaction and record one audit event
with ids, counts and hashes only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounting.exports.files import partial_output, publish
from audit.services import record_event
from cofinancing.models import Project
from cofinancing.report import ProjectReport, build_report
from cofinancing.report_files import WRITERS
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role

REPORT_ROLES = (Role.TREASURER, Role.AUDITOR, Role.ADMINISTRATOR)
IMPORT_ROLES = (Role.TREASURER, Role.ADMINISTRATOR)


def _role(actor: Any, roles: tuple[Role, ...], message: str) -> str:
    if actor is None:
        return "cli"
    for role in roles:
        if has_role(actor, role):
            return str(role)
    raise PermissionDenied(message)


def get_project(code: str) -> Project:
    project = Project.objects.filter(code=code).first()
    if project is None:
        raise ValidationFailed(_("No co-financed project with the code %(c)s.") % {"c": code})
    return project


def export_report(
    path: str | os.PathLike[str],
    *,
    project: Project,
    date_from: dt.date,
    date_to: dt.date,
    fmt: str,
    actor: Any = None,
    draft: bool = False,
) -> ProjectReport:
    """Write the report; refused while it has errors, unless written as a draft."""
    role = _role(actor, REPORT_ROLES, _("Only a treasurer, auditor or administrator may report."))
    if fmt not in WRITERS:
        raise ValidationFailed(_("The format must be csv or xlsx."))
    report = build_report(project, date_from, date_to)
    if report.errors and not draft:
        raise ValidationFailed(
            [_("The report cannot be final:")] + [f.message for f in report.errors]
        )
    with partial_output(path) as output:
        WRITERS[fmt](output.handle, report)
        publish(
            output,
            action="cofinancing.report_exported",
            actor=actor,
            role=role,
            object_ref=project.code,
            payload={
                "project": project.pk,
                "from": date_from.isoformat(),
                "to": date_to.isoformat(),
                "format": fmt,
                "draft": draft,
                "errors": len(report.errors),
                "findings": [f.code for f in report.findings],
            },
        )
    return report


# --------------------------------------------------------------------------------------
# Time-sheet import
# --------------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int  # 1 = the first row after the header
    field: str
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    dry_run: bool = True
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_time_sheets(
    file: IO[bytes] | bytes,
    *,
    format: str,
    actor: Any,
    dry_run: bool = True,
) -> ImportResult:
    """Import time sheets (CSV or XLSX): all rows or none, every bad row reported.

    A dry run checks everything and imports nothing. A real run imports only when every row
    is valid; otherwise nothing is written and the result lists every bad row.
    """
    from cofinancing.resources import TimeSheetResource, load_dataset

    role = _role(actor, IMPORT_ROLES, _("Only a treasurer or administrator may import."))
    data = file if isinstance(file, bytes) else file.read()
    digest = hashlib.sha256(data).hexdigest()
    dataset = load_dataset(data, format)
    resource = TimeSheetResource(import_sha256=digest)
    result = ImportResult(rows=len(dataset), dry_run=dry_run)
    with transaction.atomic():
        outcome = resource.import_data(
            dataset,
            dry_run=False,
            raise_errors=False,
            use_transactions=False,
            collect_failed_rows=False,
        )
        result.errors = _errors(outcome)
        if result.errors or dry_run:
            transaction.set_rollback(True)
        else:
            result.imported = outcome.totals.get("new", 0)
            record_event(
                action="cofinancing.time_sheets_imported",
                actor=actor,
                role=role,
                object_type="time_sheets",
                object_ref=digest[:16],
                payload={
                    "rows": result.rows,
                    "imported": result.imported,
                    "projects": sorted(resource.projects_seen),
                    "sha256": digest,
                    "format": format,
                },
            )
    return result


def _errors(outcome: Any) -> list[RowError]:
    errors: list[RowError] = []
    for error in outcome.base_errors:
        errors.append(RowError(0, "", str(error.error)))
    for number, row_errors in outcome.row_errors():
        for error in row_errors:
            errors.append(RowError(number, "", str(error.error)))
    for invalid in outcome.invalid_rows:
        for name, messages in invalid.field_specific_errors.items():
            for message in messages:
                errors.append(RowError(invalid.number, name, str(message)))
        for message in invalid.non_field_specific_errors:
            errors.append(RowError(invalid.number, "", str(message)))
    return sorted(errors, key=lambda e: (e.row, e.field))
