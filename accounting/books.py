"""The books as integrators read them: the chart, vouchers with their postings, the trial
balance and each fund's figures. Reads only; treasurers and auditors.

The figures come from the functions the exports and the treasury pages already use, so the
API cannot tell another story than the SIE file or the fund report: opening and closing
balances are ``accounting.exports.sie.balances`` (#IB/#UB/#RES), a fund's balance, budget,
commitments and what is available are ``accounting.selectors.fund_report``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from accounting.commitments import expensed_per_fund
from accounting.exports.sie import balances, is_balance_account
from accounting.models import Account, FiscalYear, Posting, Voucher
from accounting.selectors import fund_report
from core.exceptions import ValidationFailed
from core.roles import Role, roles_of
from fund.money import CURRENCY, quantize

ZERO = Decimal("0.00")


def may_read_books(user: Any) -> bool:
    """Treasurers keep the books and auditors check them; nobody else reads them whole."""
    roles = roles_of(user)
    return Role.TREASURER in roles or Role.AUDITOR in roles


def accounts() -> QuerySet[Account]:
    return Account.objects.order_by("number")


def fiscal_year_starting_in(year: int) -> FiscalYear | None:
    """The fiscal year named by its start year (as SIE and the exports name it)."""
    return FiscalYear.objects.filter(start__year=year).first()


def vouchers(
    *,
    fiscal_year: FiscalYear | None = None,
    series: str | None = None,
    fund: str | None = None,
    project: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Voucher]:
    """Vouchers with their postings in a fixed number of queries, by date, series, number.

    ``fund`` is a fund's code and ``project`` a project object's code: a voucher matches
    when one of its postings carries that dimension object."""
    rows = Voucher.objects.select_related("fiscal_year")
    if fiscal_year is not None:
        rows = rows.filter(fiscal_year=fiscal_year)
    if series:
        rows = rows.filter(series=series)
    if date_from is not None:
        rows = rows.filter(date__gte=date_from)
    if date_to is not None:
        rows = rows.filter(date__lte=date_to)
    if fund:
        rows = rows.filter(
            Exists(Posting.objects.filter(voucher=OuterRef("pk"), fund_object__fund__code=fund))
        )
    if project:
        rows = rows.filter(
            Exists(Posting.objects.filter(voucher=OuterRef("pk"), project__code=project))
        )
    postings = Posting.objects.select_related(
        "account", "fund_object__fund", "project", "cost_centre"
    ).order_by("pk")
    return rows.prefetch_related(Prefetch("postings", queryset=postings)).order_by(
        "date", "series", "number", "pk"
    )


@dataclass(frozen=True)
class TrialBalanceRow:
    account: str
    name: str
    opening: Decimal
    debit: Decimal
    credit: Decimal  # a positive amount: what was credited
    closing: Decimal


@dataclass(frozen=True)
class TrialBalance:
    year: int
    as_of: dt.date
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


def _movements(
    fiscal_year: FiscalYear, as_of: dt.date | None
) -> dict[str, tuple[Decimal, Decimal]]:
    """(debit, credit) per account in the year, in SEK: summed per currency, and any other
    currency refused, never added in (the SIE balances beside them are SEK)."""
    postings = Posting.objects.filter(voucher__fiscal_year=fiscal_year)
    if as_of is not None:
        postings = postings.filter(voucher__date__lte=as_of)
    rows = (
        postings.order_by()
        .values("account__number", "amount_currency")
        .annotate(
            debit=Sum("amount", filter=Q(amount__gt=0)),
            credit=Sum("amount", filter=Q(amount__lt=0)),
        )
        .values_list("account__number", "amount_currency", "debit", "credit")
    )
    result: dict[str, tuple[Decimal, Decimal]] = {}
    for number, currency, debit, credit in rows:
        if currency != CURRENCY:  # the balances below are SEK: never add other money to them
            raise ValidationFailed(_("Only SEK is kept in the ledger."))
        result[number] = (quantize(debit or ZERO), -quantize(credit or ZERO))
    return result


def date_outside_year(fiscal_year: FiscalYear, day: dt.date | None) -> str | None:
    """Why ``day`` cannot end the year's trial balance (None: it can)."""
    if day is None or fiscal_year.start <= day <= fiscal_year.end:
        return None
    return _("The date %(date)s is not within the fiscal year %(fy)s.") % {
        "date": day.isoformat(),
        "fy": fiscal_year,
    }


def trial_balance_report(
    fiscal_year: FiscalYear, *, date_to: dt.date | None = None
) -> TrialBalance:
    """Per account: opening balance (#IB), the year's debits and credits up to ``date_to``
    (the whole year by default) and the closing balance (#UB, or #RES for a result account).

    Opening and closing are the SIE export's own figures; closing = opening + debit -
    credit holds account by account because both read the same postings."""
    problem = date_outside_year(fiscal_year, date_to)
    if problem:
        raise ValidationFailed(problem)
    opening, closing, result = balances(fiscal_year, date_to)
    movements = _movements(fiscal_year, date_to)
    numbers = sorted(set(opening) | set(closing) | set(result) | set(movements))
    names = dict(Account.objects.filter(number__in=numbers).values_list("number", "name"))
    rows = []
    for number in numbers:
        debit, credit = movements.get(number, (ZERO, ZERO))
        final = closing if is_balance_account(number) else result
        rows.append(
            TrialBalanceRow(
                account=number,
                name=names.get(number, ""),
                opening=opening.get(number, ZERO),
                debit=debit,
                credit=credit,
                closing=final.get(number, ZERO),
            )
        )
    return TrialBalance(
        year=fiscal_year.start.year,
        as_of=date_to or fiscal_year.end,
        rows=rows,
        total_debit=sum((r.debit for r in rows), ZERO),
        total_credit=sum((r.credit for r in rows), ZERO),
    )


@dataclass(frozen=True)
class FundFigures:
    code: str
    name: str
    ceiling: str
    balance: Decimal
    budget: Decimal | None
    open_commitments: Decimal
    expensed: Decimal
    paid: Decimal
    available: Decimal


def fund_figures(fiscal_year: FiscalYear) -> list[FundFigures]:
    """Each fund's figures for the year, as the treasury's fund report shows them, with what
    its commitments of the year have been paid out (expensed). A fixed number of queries."""
    expensed = expensed_per_fund(fiscal_year)
    return [
        FundFigures(
            code=row.code,
            name=row.name,
            ceiling=row.ceiling,
            balance=row.balance,
            budget=row.budget,
            open_commitments=row.open_commitments,
            expensed=expensed.get(row.code, ZERO),
            paid=row.paid_this_year,
            available=row.available,
        )
        for row in fund_report(fiscal_year.start)
    ]
