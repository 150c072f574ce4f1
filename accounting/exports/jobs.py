"""Accounting exports run by a worker, with progress (``ExportJob``).

``start_export`` checks the role and the parameters, records the job and an audit event in
one transaction, and queues ``accounting.run_export`` once that transaction has committed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounting.models import ExportJob, ExportKind
from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role

#: Who may start an export job.
JOB_ROLES = (Role.TREASURER, Role.ADMINISTRATOR)

SIE_KINDS = {ExportKind.SIE4: "4", ExportKind.SIE4I: "4I"}
LEDGER_KINDS = {
    ExportKind.LEDGER_CSV: "csv",
    ExportKind.LEDGER_XLSX: "xlsx",
    ExportKind.LEDGER_JSONL: "jsonl",
}
EXTENSIONS = {
    ExportKind.SIE4: "se",
    ExportKind.SIE4I: "si",
    ExportKind.LEDGER_CSV: "csv",
    ExportKind.LEDGER_XLSX: "xlsx",
    ExportKind.LEDGER_JSONL: "jsonl",
}
CONTENT_TYPES = {
    "se": "text/plain",
    "si": "text/plain",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson",
}


def job_role(*, actor: Any) -> str:
    for role in JOB_ROLES:
        if has_role(actor, role):
            return str(role)
    raise PermissionDenied(_("Only a treasurer or an administrator may start an export."))


def may_export(*, actor: Any) -> bool:
    return any(has_role(actor, role) for role in JOB_ROLES)


def _date(value: Any, label: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        message = _("%(field)s is not a date (YYYY-MM-DD).") % {"field": label}
        raise ValidationFailed(message) from None


def clean_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The job's parameters as JSON: ``year`` (SIE only), ``from`` and ``to`` (ISO dates)."""
    if kind not in ExportKind.values:
        raise ValidationFailed(_("Unknown export kind."))
    cleaned: dict[str, Any] = {
        "from": _date(params.get("date_from", params.get("from")), "from"),
        "to": _date(params.get("date_to", params.get("to")), "to"),
    }
    if cleaned["from"] and cleaned["to"] and cleaned["from"] > cleaned["to"]:
        raise ValidationFailed(_("The start date is after the end date."))
    if kind in SIE_KINDS:
        try:
            year = int(params.get("year"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationFailed(_("A SIE export needs a fiscal year.")) from None
        if not 1900 <= year <= 2999:
            raise ValidationFailed(_("A SIE export needs a fiscal year."))
        cleaned["year"] = year
    return cleaned


def export_path(job: ExportJob) -> Path:
    return Path(settings.EXPORT_FILES_DIR) / f"{job.pk}.{EXTENSIONS[ExportKind(job.kind)]}"


def download_name(job: ExportJob) -> str:
    return f"{job.kind}-{job.created_at:%Y%m%d-%H%M%S}.{EXTENSIONS[ExportKind(job.kind)]}"


def start_export(*, actor: Any, kind: str, **params: Any) -> ExportJob:
    """Record an export job and queue it for a worker."""
    role = job_role(actor=actor)
    cleaned = clean_params(kind, params)
    with transaction.atomic():
        job = ExportJob.objects.create(kind=kind, params=cleaned, created_by=actor)
        record_event(
            action="export.job_started",
            actor=actor,
            role=role,
            object_type="export_job",
            object_ref=str(job.pk),
            payload={"kind": kind, **cleaned},
        )
        from accounting.tasks import run_export

        transaction.on_commit(lambda: run_export.delay(str(job.pk)))
    return job
