"""Writing the trail from the database (the format is in :mod:`audit.trail`)."""

from __future__ import annotations

from typing import TextIO

from django.utils import timezone

from audit.canonical import format_timestamp
from audit.chain import Entry
from audit.models import AuditEvent
from audit.trail import write_trail
from audit.verification import stored_checkpoints, stream_entries


def export_trail(out: TextIO, application: str | None = None) -> int:
    """Write the whole chain, or one application's entries, with every checkpoint."""
    queryset = AuditEvent.objects.all()
    if application:
        from fund.models import Application

        app = Application.objects.filter(reference=application).select_related("beneficiary")
        found = app.first()
        if found is None:
            raise LookupError(f"no application {application}")
        refs = [found.reference, found.beneficiary.reference]
        queryset = queryset.filter(object_ref__in=refs)
    return write_trail(
        out,
        (Entry._make(row) for row in stream_entries(queryset)),
        stored_checkpoints(),
        exported_at=format_timestamp(timezone.now()),
        application=application,
    )
