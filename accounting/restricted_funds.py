"""Ändamålsbestämda medel: what of each fund's restricted gifts is still unused at year end.

Gifts to a fund are income when received. At year end the unused part of a fund's gifts is
moved from balanserat kapital (``retained_capital``, 2067) to the fund's restricted account
(``Fund.restricted_funds_account``, 2070-2072), and what the fund used in the year is
released back, so the balance sheet shows what donors' restrictions still bind.

Per fund and year: opening = the fund's restricted account at the year's start; additions =
what was booked on that account with the fund's object during the year outside series E (an
opening balance entered with ``record_income(kind="restricted_capital")`` dated inside the
year: restricted money that never passed through income); gifts = income credited to the
fund's object in the year; used = the fund's grant cost in the year (grants are booked when
decided, so this follows the decisions); closing = max(0, opening + additions + gifts - used);
the transfer at year end is closing - (opening + additions), so that after it the fund's
restricted account holds exactly the closing figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from accounting import chart
from accounting.models import (
    Account,
    AccountType,
    DimensionObject,
    FiscalYear,
    Posting,
    VoucherSeries,
)
from fund.models import Fund
from fund.money import quantize


def restricted_funds_account_problem(number: str) -> str | None:
    """Why ``number`` cannot hold a fund's restricted funds (None: it can).

    Donors' restricted money must sit on an equity account of its own: a bank account, or
    balanserat kapital that the year-end moves money out of, would mix it with other money."""
    account = Account.objects.filter(number=number, active=True).first()
    if account is None or account.type != AccountType.EQUITY:
        return _(
            "Account %(number)s is not an equity account of the chart: restricted funds are "
            "kept on an equity account of their own (2070-2072 Ändamålsbestämda medel, or "
            "the foundation's own account)."
        ) % {"number": number}
    other_roles = sorted(
        role
        for role, mapped in chart.mapping().items()
        if mapped == number and role != "restricted_funds"
    )
    if other_roles:
        return _(
            "Account %(number)s %(name)s already books %(roles)s: restricted funds need an "
            "account of their own (2070-2072 Ändamålsbestämda medel, or the foundation's own "
            "account)."
        ) % {"number": number, "name": account.name, "roles": ", ".join(other_roles)}
    return None


ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RestrictedFundRow:
    fund: Fund
    account: str
    opening: Decimal
    additions: Decimal
    gifts: Decimal
    used: Decimal

    @property
    def closing(self) -> Decimal:
        return max(ZERO, self.opening + self.additions + self.gifts - self.used)

    @property
    def transfer(self) -> Decimal:
        """Positive: unused gifts move 2067 -> restricted; negative: released back to 2067.

        Measured from what the restricted account already holds before the year-end
        (opening + additions), so the account ends the year at the closing figure."""
        return self.closing - (self.opening + self.additions)

    def as_figures(self) -> dict[str, str]:
        return {
            "fund": self.fund.code,
            "account": self.account,
            "opening": str(self.opening),
            "additions": str(self.additions),
            "gifts": str(self.gifts),
            "used": str(self.used),
            "closing": str(self.closing),
            "transfer": str(self.transfer),
        }


def restricted_funds(fiscal_year: FiscalYear) -> list[RestrictedFundRow]:
    """One row per fund that has an accounting object (six queries, whatever the count)."""
    objects = {
        obj.fund_id: obj.pk
        for obj in DimensionObject.objects.filter(fund__isnull=False).only("pk", "fund_id")
    }
    funds = list(Fund.objects.filter(pk__in=objects).order_by("code"))
    restricted = Q()
    for fund in funds:
        restricted |= Q(
            fund_object_id=objects[fund.pk], account__number=fund.restricted_funds_account
        )
    opening = _per_object(
        Posting.objects.filter(restricted, voucher__date__lt=fiscal_year.start) if funds else None
    )
    additions = _per_object(
        Posting.objects.filter(restricted, voucher__fiscal_year=fiscal_year).exclude(
            voucher__series=VoucherSeries.YEAR_END
        )
        if funds
        else None
    )
    in_year = Posting.objects.filter(
        fund_object_id__in=objects.values(), voucher__fiscal_year=fiscal_year
    )
    gifts = _per_object(in_year.filter(account__type=AccountType.INCOME))
    used = _per_object(in_year.filter(account__number__in=chart.accounts_of("grants_paid")))
    return [
        RestrictedFundRow(
            fund=fund,
            account=fund.restricted_funds_account,
            opening=-opening.get(objects[fund.pk], ZERO),
            additions=-additions.get(objects[fund.pk], ZERO),
            gifts=-gifts.get(objects[fund.pk], ZERO),
            used=used.get(objects[fund.pk], ZERO),
        )
        for fund in funds
    ]


def _per_object(postings: QuerySet[Posting] | None) -> dict[int, Decimal]:
    if postings is None:
        return {}
    rows = (
        postings.order_by()
        .values("fund_object_id")
        .annotate(total=Sum("amount"))
        .values_list("fund_object_id", "total")
    )
    return {obj: quantize(total or ZERO) for obj, total in rows}
