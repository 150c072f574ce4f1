"""The project report as CSV (sections one after another) or XLSX (three sheets).

The time-sheet appendix names a person by pseudonymous id only, and a partner by its
organisation name (not its number: a sole trader's organisation number is a personnummer).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from cofinancing.report import ProjectReport, Row

REPORT_COLUMNS = [
    "row",
    "label",
    "budget",
    "this_period",
    "cumulative",
    "remaining",
    "used_percent",
    "esf_share",
]
TIME_SHEET_COLUMNS = [
    "person",
    "partner",
    "partner_role",
    "pay_group",
    "month",
    "hours",
    "hourly_rate",
    "amount",
    "attestation",
]
FINDING_COLUMNS = ["code", "severity", "message"]


def _row(row: Row) -> list[Any]:
    return [
        row.key,
        row.label,
        row.budget,
        row.period,
        row.cumulative,
        row.remaining,
        row.used_percent,
        row.esf_share,
    ]


def report_rows(report: ProjectReport) -> Iterator[list[Any]]:
    yield from (_row(r) for r in report.costs)
    yield _row(report.total_cost)
    yield from (_row(r) for r in report.financing)
    yield _row(report.total_financing)


def time_sheet_rows(report: ProjectReport) -> Iterator[list[Any]]:
    for line in report.time_sheets:
        yield [
            line.person_ref,
            line.partner,
            line.role,
            line.pay_group,
            f"{line.month:%Y-%m}",
            line.hours,
            line.hourly_rate,
            line.amount,
            line.attestation_ref,
        ]


def finding_rows(report: ProjectReport) -> Iterator[list[Any]]:
    for finding in report.findings:
        yield [finding.code, finding.severity, finding.message]


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else value


def write_csv(out: IO[bytes], report: ProjectReport) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    project = report.project
    writer.writerow(["project", project.code, project.case_number])
    writer.writerow(["period", f"{report.date_from:%Y-%m-%d}", f"{report.date_to:%Y-%m-%d}"])
    for title, columns, rows in (
        ("report", REPORT_COLUMNS, report_rows(report)),
        ("time_sheets", TIME_SHEET_COLUMNS, time_sheet_rows(report)),
        ("validations", FINDING_COLUMNS, finding_rows(report)),
    ):
        writer.writerow([])
        writer.writerow([f"# {title}"])
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(v) for v in row])
    text.flush()
    text.detach()


def write_xlsx(out: IO[bytes], report: ProjectReport) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, columns, rows in (
        ("Report", REPORT_COLUMNS, report_rows(report)),
        ("Time sheets", TIME_SHEET_COLUMNS, time_sheet_rows(report)),
        ("Validations", FINDING_COLUMNS, finding_rows(report)),
    ):
        sheet = book.create_sheet(title=title)
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
    book.save(out)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
