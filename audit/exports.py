"""Writing the trail from the database (the format is in :mod:`audit.trail`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from django.utils import timezone

from audit.canonical import format_timestamp
from audit.chain import Entry
from audit.models import AuditEvent
from audit.trail import write_trail
from audit.verification import stored_checkpoints, stream_entries
from core.observability import timed_export

#: The export kind the metrics count trail exports under.
TRAIL_EXPORT_KIND = "audit_trail"

#: Finds the object references that make up one case's trail (the case and its person), or
#: None when there is no such case. The app that owns cases sets it at start-up
#: (``fund.apps``): the audit log sits below every app and knows none of their models.
CaseRefsResolver = Callable[[str], "list[str] | None"]
_case_refs: CaseRefsResolver | None = None


def register_case_refs(resolver: CaseRefsResolver) -> None:
    global _case_refs
    _case_refs = resolver


def export_trail(out: TextIO, application: str | None = None) -> int:
    """Write the whole chain, or one application's entries, with every checkpoint."""
    queryset = AuditEvent.objects.all()
    if application:
        if _case_refs is None:
            raise LookupError("no app resolves case references")
        refs = _case_refs(application)
        if refs is None:
            raise LookupError(f"no application {application}")
        queryset = queryset.filter(object_ref__in=refs)
    with timed_export(TRAIL_EXPORT_KIND):
        return write_trail(
            out,
            (Entry._make(row) for row in stream_entries(queryset)),
            stored_checkpoints(),
            exported_at=format_timestamp(timezone.now()),
            application=application,
        )
