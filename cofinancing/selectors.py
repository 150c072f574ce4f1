"""What the co-financing page reads per project: the ESF figures and a sensible accrual date.

Reads only; the bookings are ``cofinancing.esf_income`` and ``cofinancing.esf_claims``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cofinancing.esf_claims import claimed_to_date
from cofinancing.esf_income import esf_entitlement
from cofinancing.esf_ledger import esf_ledger
from cofinancing.models import Project

#: Why the accrual date offered is what it is (the page says which).
CURRENT_MONTH = "current_month"
PROJECT_END = "project_end"


@dataclass(frozen=True)
class ProjectEsfFigures:
    """One project's ESF position today: the four figures a controller asks for, and the
    income booked beside them (the ledger accrues as costs arise, claimed or not)."""

    project: Project
    entitled: Decimal
    claimed: Decimal
    received: Decimal
    booked: Decimal
    accrue_to: dt.date
    accrue_to_reason: str  # CURRENT_MONTH or PROJECT_END

    @property
    def outstanding(self) -> Decimal:
        """Claimed and not yet received (negative: received ahead of the claims)."""
        return self.claimed - self.received


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def default_accrual_date(project: Project, today: dt.date) -> tuple[dt.date, str]:
    """Today while the project runs (income is never accrued to a day still to come), its last
    day once it has ended - so that the accrual catches up with everything booked, and a
    year-end finds the year's income accrued."""
    if project.end < today:
        return project.end, PROJECT_END
    return today, CURRENT_MONTH


def project_esf_figures(project: Project, today: dt.date) -> ProjectEsfFigures:
    books = esf_ledger(project)
    accrue_to, reason = default_accrual_date(project, today)
    return ProjectEsfFigures(
        project=project,
        entitled=esf_entitlement(project, today),
        claimed=claimed_to_date(project),
        received=books.received,
        booked=books.recognised,
        accrue_to=accrue_to,
        accrue_to_reason=reason,
    )


def co_financing_overview(today: dt.date) -> list[ProjectEsfFigures]:
    """Every co-financed project, by code."""
    return [project_esf_figures(project, today) for project in Project.objects.order_by("code")]


def voucher_summary(voucher: Any) -> str:
    """The voucher's number, date and debit total: what a treasurer looks up in the ledger."""
    debit = sum((p.amount.amount for p in voucher.postings.all() if p.amount.amount > 0), 0)
    return f"{voucher.series}{voucher.number} {voucher.date:%Y-%m-%d} ({debit:.2f})"
