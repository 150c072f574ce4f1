"""The 90-konto ratios (Svensk Insamlingskontroll): purpose, fundraising and administration
costs of a year as shares of its total income; at least 75 % must go to the purpose.

Total income: every posting of the year on an income account (3xxx, 83xx), credits counted
positive. Costs: every posting on an expense account, by function:

1. its cost centre (dimension 1, seeded by the ledger): ``100`` purpose (ändamål), ``200``
   fundraising (insamling), ``300`` administration;
2. without a cost centre: grants decided to beneficiaries (every posting of a series D
   voucher — cost when decided, its reversal when released — whatever account the chart maps
   ``grants_paid`` to), grants and gifts given (the role ``grants_paid``, 6710, 6993) and
   anything booked on a co-financed project (dimension 6) are purpose;
3. everything else without a cost centre is administration - an unallocated cost never
   raises the purpose share.

The year-end's vouchers (series E) are left out: the result voucher moves the year's result
through ``year_result`` (8999) and is neither income nor cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from accounting import chart
from accounting.exports import ExportRefused
from accounting.models import AccountType, Posting, VoucherSeries
from fund.money import CURRENCY, quantize

PURPOSE, FUNDRAISING, ADMINISTRATION = "purpose", "fundraising", "administration"
COST_CENTRE_FUNCTION = {"100": PURPOSE, "200": FUNDRAISING, "300": ADMINISTRATION}
#: Always purpose without a cost centre (besides the account ``grants_paid`` maps to).
PURPOSE_ACCOUNTS = frozenset({"6710", "6993"})
PURPOSE_MINIMUM = Decimal("75")
ZERO = Decimal("0.00")


@dataclass
class Ratios:
    year: int
    income: Decimal
    costs: dict[str, Decimal]

    def percent(self, function: str) -> Decimal | None:
        if self.income <= 0:
            return None
        return (self.costs[function] / self.income * 100).quantize(Decimal("0.01"))

    @property
    def flags(self) -> list[str]:
        purpose = self.percent(PURPOSE)
        if purpose is None:
            return [_("The year has no income: the ratios cannot be computed.")]
        flags = []
        if purpose < PURPOSE_MINIMUM:
            flags.append(
                _("Purpose costs are %(p)s %% of total income, below the required 75 %%.")
                % {"p": purpose}
            )
        other = (self.percent(FUNDRAISING) or ZERO) + (self.percent(ADMINISTRATION) or ZERO)
        if other > 100 - PURPOSE_MINIMUM:
            flags.append(
                _("Fundraising and administration are %(p)s %% of total income, above 25 %%.")
                % {"p": other}
            )
        return flags


def function_of(
    account: str,
    cost_centre: str | None,
    project: int | None,
    series: str | None = None,
    grants_paid: tuple[str, ...] = (),
) -> str:
    if cost_centre in COST_CENTRE_FUNCTION:
        return COST_CENTRE_FUNCTION[cost_centre]
    if series == VoucherSeries.GRANTS or project is not None:
        return PURPOSE
    if account in PURPOSE_ACCOUNTS or account in grants_paid:
        return PURPOSE
    return ADMINISTRATION


def insamling_ratios(year: int) -> Ratios:
    postings = (
        Posting.objects.filter(voucher__fiscal_year__start__year=year)
        .exclude(voucher__series=VoucherSeries.YEAR_END)
        .order_by()
    )
    rows = (
        postings.filter(account__type__in=(AccountType.INCOME, AccountType.EXPENSE))
        .values(
            "account__number",
            "account__type",
            "cost_centre__code",
            "project",
            "voucher__series",
            "amount_currency",
        )
        .annotate(total=Sum("amount"))
        .values_list(
            "account__number",
            "account__type",
            "cost_centre__code",
            "project",
            "voucher__series",
            "amount_currency",
            "total",
        )
    )
    # Every account grants were given on, the current mapping's and earlier ones'.
    grants_paid = chart.accounts_of("grants_paid")
    income = ZERO
    costs = {PURPOSE: ZERO, FUNDRAISING: ZERO, ADMINISTRATION: ZERO}
    for account, kind, cost_centre, project, series, currency, total in rows:
        if currency != CURRENCY:
            raise ExportRefused(
                _("Postings in %(c)s found; the ratios are computed in SEK only.") % {"c": currency}
            )
        if kind == AccountType.INCOME:
            income -= quantize(total)
        else:
            costs[function_of(account, cost_centre, project, series, grants_paid)] += quantize(
                total
            )
    return Ratios(year=year, income=income, costs=costs)
