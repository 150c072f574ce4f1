"""The project report as CSV (sections one after another) or XLSX (a sheet a section).

Sections: the report (cost rows, financing rows, the gap), ESF (entitled, claimed, income
booked, received, outstanding, received ahead of claims; then the payment claims), partners
(cash costs, hours in kind against the budgeted hours, their value), hourly rates
(rate, basis, hours, market rate), time sheets, validations.
No column mixes SEK and percent.

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
    "esf_share_sek",
    "share_of_financing_percent",
]
ESF_COLUMNS = ["row", "amount_sek"]
#: The payment claims submitted by the report's end, below the ESF figures on the same sheet.
CLAIM_COLUMNS = ["claim", "period_from", "period_to", "submitted_on", "amount_sek", "reference"]
PARTNER_COLUMNS = [
    "partner",
    "partner_role",
    "cash_costs",
    "hours_this_period",
    "hours_cumulative",
    "budgeted_hours_min",
    "budgeted_hours_max",
    "in_kind_value_this_period",
    "in_kind_value_cumulative",
]
RATE_COLUMNS = ["partner", "pay_group", "hourly_rate", "basis", "hours", "amount", "market_rate"]
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
        row.share_percent,
    ]


def report_rows(report: ProjectReport) -> Iterator[list[Any]]:
    yield from (_row(r) for r in report.costs)
    yield _row(report.total_cost)
    yield from (_row(r) for r in report.financing)
    yield _row(report.total_financing)
    yield _row(report.gap)


def esf_rows(report: ProjectReport) -> Iterator[list[Any]]:
    esf = report.esf
    yield ["entitled", esf.entitled]
    yield ["claimed", esf.claimed]
    yield ["income_booked", esf.booked]
    yield ["received", esf.received]
    yield ["outstanding", esf.outstanding]
    yield ["received_ahead_of_claims", esf.received_ahead]
    yield ["public_support_including_in_kind", report.public_support]
    yield ["eligible_cost_excluding_in_kind", report.eligible_excluding_in_kind]
    yield []
    yield CLAIM_COLUMNS
    for claim in esf.claims:
        yield [
            claim.number,
            f"{claim.period_from:%Y-%m-%d}",
            f"{claim.period_to:%Y-%m-%d}",
            f"{claim.submitted_on:%Y-%m-%d}",
            claim.amount,
            claim.reference,
        ]


def partner_rows(report: ProjectReport) -> Iterator[list[Any]]:
    for line in report.partners:
        yield [
            line.partner,
            line.role,
            line.cash_costs,
            line.hours_period,
            line.hours_cumulative,
            line.budgeted_hours_min,
            line.budgeted_hours_max,
            line.value_period,
            line.value_cumulative,
        ]


def rate_rows(report: ProjectReport) -> Iterator[list[Any]]:
    for line in report.rates:
        yield [
            line.partner,
            line.pay_group,
            line.hourly_rate,
            line.basis,
            line.hours,
            line.amount,
            line.market_rate,
        ]


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


SHEET_TITLES = {
    "report": "Report",
    "esf": "ESF",
    "partners": "Partners",
    "hourly_rates": "Hourly rates",
    "time_sheets": "Time sheets",
    "validations": "Validations",
}


def _sections(report: ProjectReport) -> list[tuple[str, list[str], Iterator[list[Any]]]]:
    return [
        ("report", REPORT_COLUMNS, report_rows(report)),
        ("esf", ESF_COLUMNS, esf_rows(report)),
        ("partners", PARTNER_COLUMNS, partner_rows(report)),
        ("hourly_rates", RATE_COLUMNS, rate_rows(report)),
        ("time_sheets", TIME_SHEET_COLUMNS, time_sheet_rows(report)),
        ("validations", FINDING_COLUMNS, finding_rows(report)),
    ]


def write_csv(out: IO[bytes], report: ProjectReport) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    project = report.project
    writer.writerow(["project", project.code, project.case_number])
    writer.writerow(["period", f"{report.date_from:%Y-%m-%d}", f"{report.date_to:%Y-%m-%d}"])
    for title, columns, rows in _sections(report):
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
    for title, columns, rows in _sections(report):
        sheet = book.create_sheet(title=SHEET_TITLES[title])
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
    book.save(out)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
