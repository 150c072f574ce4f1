"""Reads for reports: a fund's balance, budget, commitments and what is still available;
the payees waiting for a second treasurer.

``fund_report`` needs a fixed number of queries whatever the number of funds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounting import chart
from accounting.ledger import CAPITAL_TYPES, ZERO, year_of
from accounting.models import (
    Ceiling,
    Commitment,
    CommitmentStatus,
    FundAccountingSettings,
    FundBudget,
    OrderStatus,
    Payee,
    PaymentBatch,
    Posting,
    VoucherSeries,
)
from fund.models import Fund
from fund.money import quantize


@dataclass(frozen=True)
class FundReportRow:
    code: str
    name: str
    dimension: str
    ceiling: str
    balance: Decimal
    budget: Decimal | None
    open_commitments: Decimal
    paid_this_year: Decimal
    available: Decimal


def _by_fund(rows: object) -> dict[int, Decimal]:
    result: dict[int, Decimal] = {}
    for fund_id, currency, total in rows:  # type: ignore[attr-defined]
        if currency != "SEK":  # a real check, not an assert: -O must not turn it off
            raise ValueError(f"the ledger holds SEK only, not {currency}")
        result[fund_id] = result.get(fund_id, ZERO) + quantize(total or ZERO)
    return result


def fund_report(on: dt.date | None = None) -> list[FundReportRow]:
    year = year_of(on or timezone.localdate())  # None before the year's first voucher
    funds = list(Fund.objects.order_by("code"))
    capital = _by_fund(
        Posting.objects.filter(account__type__in=CAPITAL_TYPES, fund_object__fund__isnull=False)
        .order_by()
        .values_list("fund_object__fund_id", "amount_currency")
        .annotate(total=Sum("amount"))
    )
    # What the bank paid for the fund's grants this year (payout vouchers' bank side): the
    # cost of a grant is booked when it is decided, so the cost account says nothing of this.
    paid_out = _by_fund(
        Posting.objects.filter(
            account__number__in=chart.accounts_of("bank"),  # earlier bank accounts too
            voucher__series=VoucherSeries.PAYOUT,
            voucher__fiscal_year=year,
            fund_object__fund__isnull=False,
        )
        .order_by()
        .values_list("fund_object__fund_id", "amount_currency")
        .annotate(total=Sum("amount"))
    )
    paid = {fund_id: -total for fund_id, total in paid_out.items()}
    # Open commitments whose grant is not yet booked as a cost (made before accrual) still
    # hold the balance back; accrued ones are already out of it.
    open_rows = list(
        Commitment.objects.filter(status=CommitmentStatus.OPEN)
        .order_by()
        .values_list("fund_id", "amount_currency")
        .annotate(total=Sum("amount"), unbooked=Sum("amount", filter=Q(accrued_by__isnull=True)))
    )
    committed = _by_fund([(f, c, total) for f, c, total, _unbooked in open_rows])
    committed_unbooked = _by_fund([(f, c, unbooked) for f, c, _total, unbooked in open_rows])
    committed_year = _by_fund(
        Commitment.objects.filter(
            fiscal_year=year, status__in=[CommitmentStatus.OPEN, CommitmentStatus.EXPENSED]
        )
        .order_by()
        .values_list("fund_id", "amount_currency")
        .annotate(total=Sum("amount"))
    )
    budgets = {b.fund_id: b.amount.amount for b in FundBudget.objects.filter(fiscal_year=year)}
    ceilings = dict(FundAccountingSettings.objects.values_list("fund_id", "ceiling"))
    rows = []
    for fund in funds:
        balance = -capital.get(fund.pk, ZERO)
        ceiling = ceilings.get(fund.pk, Ceiling.BALANCE)
        budget = budgets.get(fund.pk)
        if ceiling == Ceiling.BUDGET:
            available = (budget or ZERO) - committed_year.get(fund.pk, ZERO)
        else:
            available = balance - committed_unbooked.get(fund.pk, ZERO)
        rows.append(
            FundReportRow(
                code=fund.code,
                name=fund.name,
                dimension=fund.accounting_dimension,
                ceiling=ceiling,
                balance=balance,
                budget=budget,
                open_commitments=committed.get(fund.pk, ZERO),
                paid_this_year=paid.get(fund.pk, ZERO),
                available=available,
            )
        )
    return rows


def payees_awaiting_approval() -> list[Payee]:
    """Active payees no second treasurer has approved yet, oldest first."""
    return list(
        Payee.objects.filter(active=True, approved_by__isnull=True)
        .select_related("registered_by", "organisation")
        .order_by("created_at", "pk")
    )


def year_end_page(requested: str | None) -> dict[str, Any]:
    """What the year-end page shows: the years, the chosen one's checks, restricted funds and
    closing. Without a choice: the first year not closed yet (else the last year)."""
    from accounting.models import FiscalYear, YearEndClosing
    from accounting.restricted_funds import restricted_funds
    from accounting.year_end import closing_problems

    years = list(FiscalYear.objects.order_by("start").select_related("closing"))
    chosen = next((y for y in years if requested and str(y.start.year) == requested), None)
    if chosen is None:
        chosen = next(
            (
                y
                for y in years
                if not YearEndClosing.objects.filter(
                    fiscal_year=y, locked_at__isnull=False
                ).exists()
            ),
            years[-1] if years else None,
        )
    if chosen is None:
        return {"years": [], "year": None}
    closing = (
        YearEndClosing.objects.filter(fiscal_year=chosen)
        .select_related("prepared_by", "approved_by")
        .first()
    )
    return {
        "years": years,
        "year": chosen,
        "closing": closing,
        "problems": [] if closing and closing.is_locked else closing_problems(chosen),
        "funds": restricted_funds(chosen),
        "periods": periods_of_year(chosen),
    }


def periods_of_year(fiscal_year: Any) -> list[dict[str, Any]]:
    """The year's periods, each with its open proposal to close it (or None)."""
    from accounting.models import Period, PeriodCloseRequest

    periods = list(Period.objects.filter(fiscal_year=fiscal_year).order_by("start"))
    pending = {
        r.period_id: r
        for r in PeriodCloseRequest.objects.filter(
            period__fiscal_year=fiscal_year, approved_at__isnull=True
        ).select_related("proposed_by")
    }
    return [{"period": p, "request": pending.get(p.pk)} for p in periods]


def batches_with_figures(batches: QuerySet[PaymentBatch]) -> QuerySet[PaymentBatch]:
    """Batches with their orders counted and summed in the same query, for the names and
    statuses the lists show (``PaymentBatch.display_name``, ``status_label``)."""
    return batches.annotate(
        order_count=Count("orders"),
        order_total=Sum("orders__amount"),
        open_orders=Count("orders", filter=Q(orders__status=OrderStatus.SCHEDULED)),
        paid_orders=Count("orders", filter=Q(orders__status=OrderStatus.PAID)),
    )
