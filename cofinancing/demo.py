"""The seed's co-financed project: a 2005-2007 ESF/Equal project.

Total budget 22 979 840 SEK, ESF 48 % = 11 030 323.20 SEK; a municipal partner gives
1 080 hours of staff time in kind (budgeted up to 1 200 hours). Some ledger vouchers on the
project (dimension 6) and the partner's monthly time sheets make a report to look at:
``manage.py cofinancing_report --project ESF-EQ-2005 --from 2006-01-01 --to 2006-06-30``.

ESF income is accrued at each year end (``cofinancing.esf_income``): 232 751.52 at
2005-12-31 (48 % of 484 899.00 eligible), 506 242.80 at 2006-12-31 (48 % of 1 539 571.50
= 738 994.32, less the first). The one payment, 400 000 on 2006-06-10, settles the
232 751.52 receivable and is an advance (2880) for 167 248.48 until the second accrual
releases it; 338 994.32 stays receivable (1790). Over the whole project (time sheets to
2007-09) the entitlement is 48 % of 1 672 471.50 = 802 786.32.

Two payment claims (``cofinancing.esf_claims``) follow the accruals: claim 1 for 2005-09-01 -
2005-12-31, 232 751.52, submitted 2006-02-15; claim 2 for 2006, 506 242.80, submitted
2007-02-15. 738 994.32 is claimed; 2007's 63 792.00 is not claimed yet.

``seed_cofinancing()`` is idempotent: it does nothing when the project exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from moneyed import Money

from accounting import chart
from accounting.ledger import Line, post_voucher
from accounting.models import Account, AccountType, Dimension, DimensionObject
from cofinancing.esf_claims import book_esf_claim
from cofinancing.esf_income import book_esf_accrual, book_esf_receipt
from cofinancing.models import (
    BudgetLine,
    CostCategory,
    CostModel,
    FundingKind,
    FundingSource,
    Partner,
    PartnerRole,
    ProgrammePeriod,
    Project,
    RateBasis,
    TimeSheetEntry,
)
from fund.money import CURRENCY

PROJECT_CODE = "ESF-EQ-2005"
TOTAL_BUDGET = Decimal("22979840.00")
ESF_AMOUNT = Decimal("11030323.20")

#: BAS accounts the project books on that the base chart may lack.
PROJECT_ACCOUNTS = [
    ("5410", "Förbrukningsinventarier", AccountType.EXPENSE),
    ("5800", "Resekostnader", AccountType.EXPENSE),
    ("6550", "Konsultarvoden", AccountType.EXPENSE),
    ("7830", "Avskrivningar på maskiner och inventarier", AccountType.EXPENSE),
]

#: The municipality's in-kind decision: 1 000-1 200 hours, salary-based rates.
IN_KIND_DECISION: dict[str, Any] = {
    "budgeted_hours_min": 1000,
    "budgeted_hours_max": 1200,
    "hourly_rate_basis": RateBasis.SALARY,
}

BUDGET = {
    CostCategory.STAFF: "11200000.00",
    CostCategory.EXTERNAL_SERVICES: "3100000.00",
    CostCategory.PREMISES: "1900000.00",
    CostCategory.TRAVEL: "820000.00",
    CostCategory.EQUIPMENT: "450000.00",
    CostCategory.INVESTMENTS: "300000.00",
    CostCategory.OTHER: "1529840.00",
    CostCategory.INDIRECT: "1680000.00",  # 15 % of the staff budget
    CostCategory.PARTICIPANT: "2000000.00",
    CostCategory.LESS_INCOME: "0.00",
}

FINANCING = {
    FundingKind.ESF: str(ESF_AMOUNT),
    FundingKind.PUBLIC_CASH: "6000000.00",
    FundingKind.PRIVATE_CASH: "1500000.00",
    FundingKind.PUBLIC_IN_KIND: "420000.00",  # 1 200 hours x 350 SEK
    FundingKind.PARTICIPANT_ALLOWANCE: "2000000.00",
    FundingKind.OWN_CASH: "2029516.80",
}

#: (date, text, [(account, amount)]) - the bank (1930) takes the other side.
VOUCHERS = [
    ("2005-11-30", "Löner sep-nov 2005 projekt", [("7010", "300000.00"), ("7510", "94260.00")]),
    ("2006-02-28", "Lokalhyra jan-feb 2006 projekt", [("5010", "120000.00")]),
    ("2006-03-31", "Konsult utvärdering projekt", [("6550", "85000.00")]),
    ("2006-04-30", "Löner jan-apr 2006 projekt", [("7010", "400000.00"), ("7510", "125680.00")]),
    ("2006-05-15", "Resor projektmöten", [("5800", "12340.50")]),
    ("2006-05-20", "Kommunalt bidrag projekt", [("3987", "-300000.00")]),
    ("2006-06-20", "Bidrag till deltagare", [("6710", "30000.00")]),
    ("2006-06-25", "Gåva till projektet", [("3993", "-25000.00")]),
]

#: The owner's own cash put into the project (chart role own_financing), booked.
#: It covers the cost to 2006-06-30 that no other financing covers: 1 438 171.50 - 690 322.32
#: ESF - 300 000 - 25 000 - 132 900 in kind = 289 949.18.
OWN_FINANCING = [("2006-06-30", "Egen insats projekt t.o.m. 2006-06", "289949.18")]

#: ESF income: accrued at year ends, one payment received.
ESF_ACCRUALS = [dt.date(2005, 12, 31), dt.date(2006, 12, 31)]
ESF_PAYMENTS = [(dt.date(2006, 6, 10), "400000.00", "ESF-UTB-1")]

#: Payment claims (period end, amount, submitted, reference) for the periods the demo accrues:
#: 232 751.52 = the entitlement to 2005-12-31; 506 242.80 = 738 994.32 to 2006-12-31, less
#: claim 1. Nothing is claimed yet for 2007 (63 792.00 entitled by the project's end).
ESF_CLAIMS = [
    (dt.date(2005, 12, 31), "232751.52", dt.date(2006, 2, 15), "ESF-ANS-1"),
    (dt.date(2006, 12, 31), "506242.80", dt.date(2007, 2, 15), "ESF-ANS-2"),
]

#: (person, rate, hours a month, first month, last month) of the municipal partner.
TIME_SHEETS = [
    ("P-001", "350.00", 30, dt.date(2005, 10, 1), dt.date(2007, 9, 1)),
    ("P-002", "320.00", 20, dt.date(2006, 1, 1), dt.date(2007, 6, 1)),
]


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def ensure_accounts() -> None:
    for number, name, kind in PROJECT_ACCOUNTS:
        Account.objects.get_or_create(number=number, defaults={"name": name, "type": kind})


def project_object(code: str, name: str) -> DimensionObject:
    obj, _created = DimensionObject.objects.get_or_create(
        dimension=Dimension.objects.get(number=Dimension.PROJECT),
        code=code,
        defaults={"name": name},
    )
    return obj


def seed_cofinancing(*, actor: Any = None) -> Project:
    existing = Project.objects.filter(code=PROJECT_CODE).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        ensure_accounts()
        project = Project.objects.create(
            code=PROJECT_CODE,
            case_number="ESF-Equal 2005-0117",
            name="Vägar ut - Equal",
            start=dt.date(2005, 9, 1),
            end=dt.date(2007, 12, 31),
            programme_period=ProgrammePeriod.P2000_2006,
            cost_model=CostModel.ACTUAL,
            market_hourly_rate=Money("350.00", CURRENCY),  # type: ignore[misc]
            indirect_rate_percent=Decimal("15.00"),
            esf_rate_percent=Decimal("48.0000"),
        )
        Partner.objects.create(
            project=project,
            organisation_name="Stiftelsen Fundflow Demo",
            org_number="802400-0005",
            role=PartnerRole.OWNER,
        )
        municipality = Partner.objects.create(
            project=project,
            organisation_name="Exempelby kommun, socialtjänsten",
            org_number="212000-0183",
            role=PartnerRole.PARTNER,
        )
        for category, amount in BUDGET.items():
            BudgetLine.objects.create(  # type: ignore[misc]  # Money into a MoneyField
                project=project, category=category, amount=Money(amount, CURRENCY)
            )
        for kind, amount in FINANCING.items():
            FundingSource.objects.create(  # type: ignore[misc]  # Money into a MoneyField
                project=project,
                kind=kind,
                partner=municipality if kind == FundingKind.PUBLIC_IN_KIND else None,
                decided_amount=Money(amount, CURRENCY),
                decided_rate_percent=Decimal("48.0000") if kind == FundingKind.ESF else None,
                **(IN_KIND_DECISION if kind == FundingKind.PUBLIC_IN_KIND else {}),
            )
        for person, rate, hours, first, last in TIME_SHEETS:
            TimeSheetEntry.objects.bulk_create(
                TimeSheetEntry(  # type: ignore[misc]  # Money into a MoneyField
                    project=project,
                    partner=municipality,
                    person_ref=person,
                    pay_group="Socialsekreterare",
                    month=month,
                    hours=hours,
                    hourly_rate=Money(rate, CURRENCY),
                    attestation_ref=f"ATT-{month:%Y-%m}-K1",
                )
                for month in _months(first, last)
            )
        _book_ledger(project, actor)
    return project


def _book_ledger(project: Project, actor: Any) -> None:
    """The project's vouchers in date order (an accrual reads the costs booked before it)."""
    obj = project_object(PROJECT_CODE, project.name)
    own = chart.account("own_financing")
    events: list[tuple[dt.date, int, Any]] = []
    for date, text, lines in VOUCHERS:
        booked = [Line(account, Decimal(amount), project=obj) for account, amount in lines]
        total = sum((line.amount for line in booked), Decimal("0"))
        events.append(
            (
                dt.date.fromisoformat(date),
                0,
                lambda d, t=text, b=booked, x=total: post_voucher(
                    series="A",
                    text=t,
                    lines=[*b, Line(chart.account("bank"), -x, project=obj)],
                    actor=actor,
                    date=d,
                ),
            )
        )
    for date, text, amount in OWN_FINANCING:
        events.append(
            (
                dt.date.fromisoformat(date),
                0,
                lambda d, t=text, a=Decimal(amount): post_voucher(
                    series="A",
                    text=t,
                    lines=[Line(own, a), Line(own, -a, project=obj)],
                    actor=actor,
                    date=d,
                ),
            )
        )
    for paid, amount, reference in ESF_PAYMENTS:
        events.append(
            (
                paid,
                1,
                lambda d, a=amount, r=reference: book_esf_receipt(
                    project, actor=actor, amount=a, date=d, reference=r
                ),
            )
        )
    for up_to in ESF_ACCRUALS:
        events.append((up_to, 2, lambda d: book_esf_accrual(project, actor=actor, up_to=d)))
    for period_to, amount, submitted, reference in ESF_CLAIMS:
        events.append(
            (
                submitted,
                3,
                lambda d, t=period_to, a=amount, r=reference: book_esf_claim(
                    project, actor=actor, period_to=t, amount=a, submitted_on=d, reference=r
                ),
            )
        )
    for day, _order, book in sorted(events, key=lambda e: (e[0], e[1])):
        book(day)
