"""Export actions: check the role, write the file, publish it with its audit event.

Management commands and the export jobs call these; nothing is done twice. ``claim`` runs in
the transaction that publishes the file (see ``files.publish``): the export jobs mark
themselves done there, so a job is done exactly when its file and audit event exist.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from accounting.exports import ledger, sie
from accounting.exports.files import export_role, partial_output, publish
from core.observability import timed_export


def export_sie_file(
    path: str | os.PathLike[str],
    *,
    year: int,
    sie_type: str = sie.TYPE_4,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
    claim: Callable[[], None] | None = None,
    preliminary: bool = False,
    as_of: dt.date | None = None,
) -> sie.SieSummary:
    role = export_role(actor=actor)
    with timed_export(f"sie{sie_type.lower()}"), partial_output(path) as output:
        summary = sie.write_sie(
            output.handle,
            year=year,
            sie_type=sie_type,
            date_from=date_from,
            date_to=date_to,
            progress=progress,
            preliminary=preliminary,
            as_of=as_of,
        )
        publish(
            output,
            action="export.sie",
            actor=actor,
            role=role,
            object_ref=f"SIE{summary.sie_type}/{year}",
            payload={
                "sie_type": summary.sie_type,
                "year": year,
                "from": summary.date_from.isoformat(),
                "to": summary.date_to.isoformat(),
                "vouchers": summary.vouchers,
                "transactions": summary.transactions,
                "replaced_characters": summary.replaced_characters,
                "preliminary": summary.preliminary,
                "as_of": summary.as_of.isoformat() if summary.as_of else None,
            },
            claim=claim,
        )
    return summary


def export_ledger_file(
    path: str | os.PathLike[str],
    *,
    fmt: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
    claim: Callable[[], None] | None = None,
) -> ledger.LedgerSummary:
    role = export_role(actor=actor)
    with timed_export(f"ledger_{fmt}"), partial_output(path) as output:
        summary = ledger.write_ledger(
            output.handle, fmt=fmt, date_from=date_from, date_to=date_to, progress=progress
        )
        publish(
            output,
            action="export.ledger",
            actor=actor,
            role=role,
            object_ref=f"ledger/{summary.fmt}",
            payload={
                "format": summary.fmt,
                "from": date_from.isoformat() if date_from else None,
                "to": date_to.isoformat() if date_to else None,
                "rows": summary.rows,
            },
            claim=claim,
        )
    return summary
