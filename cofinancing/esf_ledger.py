"""What the ledger says about a project's co-financier income: earned, receivable, advance.

Read on the project's dimension-6 object only. Income recognised (``grant_eu``, 3981) is what
has been accrued as earned (and any receipt booked straight to income); the receivable
(``accrued_income``, 1790) is earned and not yet received; the advance
(``conditional_grants``, 2880) is received ahead of the costs it pays for. So what was
received is ``recognised - receivable + advance``, whichever way each receipt was booked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Sum

from accounting import chart
from accounting.models import Dimension, Posting
from cofinancing.models import Project
from fund.money import quantize

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class EsfLedger:
    recognised: Decimal  # credit balance of grant_eu on the project
    receivable: Decimal  # debit balance of accrued_income
    advance: Decimal  # credit balance of conditional_grants

    @property
    def received(self) -> Decimal:
        return self.recognised - self.receivable + self.advance


def esf_ledger(project: Project, up_to: dt.date | None = None) -> EsfLedger:
    """The three balances on the project, up to and including ``up_to`` (None: all)."""
    # Every account each role has booked on: a remap moves where new vouchers go, and what
    # the project booked before it still counts (chart.accounts_of).
    accounts = chart.role_accounts()
    roles = {
        number: name
        for role, name in (
            ("grant_eu", "recognised"),
            ("accrued_income", "receivable"),
            ("conditional_grants", "advance"),
        )
        for number in accounts[role]
    }
    postings = Posting.objects.filter(
        project__dimension__number=Dimension.PROJECT,
        project__code=project.code,
        account__number__in=list(roles),
    )
    if up_to is not None:
        postings = postings.filter(voucher__date__lte=up_to)
    sums = {role: ZERO for role in roles.values()}
    for number, total in (
        postings.order_by()
        .values("account__number")
        .annotate(t=Sum("amount"))
        .values_list("account__number", "t")
    ):
        sums[roles[number]] += quantize(total or ZERO)
    return EsfLedger(
        recognised=-sums["recognised"], receivable=sums["receivable"], advance=-sums["advance"]
    )


def last_income_date(project: Project) -> dt.date | None:
    """The date of the latest income (grant_eu) posting on the project."""
    return Posting.objects.filter(
        project__dimension__number=Dimension.PROJECT,
        project__code=project.code,
        account__number__in=chart.accounts_of("grant_eu"),
    ).aggregate(last=Max("voucher__date"))["last"]
