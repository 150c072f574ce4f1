"""Export actions: check the role, write the file atomically, audit the export.

Management commands (and any admin action or view) call these; nothing is done twice.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from accounting.exports import ledger, sie
from accounting.exports.files import atomic_output, export_role, record_export


def export_sie_file(
    path: str | os.PathLike[str],
    *,
    year: int,
    sie_type: str = sie.TYPE_4,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
) -> sie.SieSummary:
    role = export_role(actor)
    with atomic_output(path) as handle:
        summary = sie.write_sie(
            handle,
            year=year,
            sie_type=sie_type,
            date_from=date_from,
            date_to=date_to,
            progress=progress,
        )
    record_export(
        path=path,
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
        },
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
) -> ledger.LedgerSummary:
    role = export_role(actor)
    with atomic_output(path) as handle:
        summary = ledger.write_ledger(
            handle, fmt=fmt, date_from=date_from, date_to=date_to, progress=progress
        )
    record_export(
        path=path,
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
    )
    return summary
