"""Budgets and commitments: what a fund may still grant.

A fund's ceiling is its balance (default) or its budget for the fiscal year
(``FundAccountingSettings.ceiling``):

* balance: available = the fund's capital (decided grants are already a cost in it, see below)
  - open commitments not yet booked (made before grants were accrued);
* budget: available = the year's budget - open commitments of the year - commitments of the
  year already paid out (a commitment belongs to the year its decision took effect).

A decision taking effect commits its approved items and books the grant as an obligation: the
cost (``grants_paid``, 6710) against a liability (``grants_payable``, 2890, "beviljade, ej
utbetalda bidrag") on the fund's object, series D. A payout settles the liability against the
bank. Withdrawal, reconsideration and a payout given up release the open commitments and book
the opposite for what is released (liability debited, cost credited), so the fund's balance
and the 90-konto ratios follow the decisions. Every function that reads the
available amount in order to change it locks the fund's row first, so two decisions cannot
both take the last krona.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from accounting import chart
from accounting.ledger import (
    ZERO,
    Line,
    fiscal_year_for,
    fund_balance,
    post_voucher,
    require_treasurer,
    sum_sek,
    sum_sek_per,
    year_of,
)
from accounting.models import (
    Ceiling,
    Commitment,
    CommitmentStatus,
    FiscalYear,
    FundAccountingSettings,
    FundBudget,
    Posting,
    Voucher,
    VoucherSeries,
)
from audit.services import record_event
from core.exceptions import ValidationFailed
from core.roles import Role
from fund.locks import lock_fund
from fund.models import Application, Fund
from fund.money import CURRENCY, parse_amount


def ceiling_of(fund: Fund) -> str:
    row = FundAccountingSettings.objects.filter(fund=fund).first()
    return row.ceiling if row is not None else Ceiling.BALANCE


def set_ceiling(fund: Fund, *, ceiling: str, actor: Any) -> FundAccountingSettings:
    require_treasurer(actor=actor, message=_("Only a treasurer may change how a fund is limited."))
    if ceiling not in Ceiling.values:
        raise ValidationFailed(_("Choose the balance or the budget as the fund's limit."))
    with transaction.atomic():
        lock_fund(fund)
        row, _created = FundAccountingSettings.objects.update_or_create(
            fund=fund, defaults={"ceiling": ceiling}
        )
        _refuse_negative(fund, _("With this limit"))
        record_event(
            action="accounting.ceiling_set",
            actor=actor,
            role=Role.TREASURER,
            object_type="fund",
            object_ref=fund.code,
            payload={"ceiling": ceiling},
        )
    return row


def set_budget(fund: Fund, *, year: FiscalYear, amount: Any, actor: Any) -> FundBudget:
    require_treasurer(actor=actor, message=_("Only a treasurer may set a fund's budget."))
    try:
        money = parse_amount(amount, field=_("Budget"), allow_zero=True)
    except Exception as exc:  # django ValidationError
        raise ValidationFailed(getattr(exc, "messages", [str(exc)])) from exc
    with transaction.atomic():
        lock_fund(fund)
        budget, _created = FundBudget.objects.update_or_create(
            fund=fund, fiscal_year=year, defaults={"amount": money}
        )
        _refuse_negative(fund, _("With this budget"), year=year)
        record_event(
            action="accounting.budget_set",
            actor=actor,
            role=Role.TREASURER,
            object_type="fund",
            object_ref=fund.code,
            payload={"fiscal_year": year.start.year, "amount": money.amount},
        )
    return budget


def _refuse_negative(fund: Fund, what: str, year: FiscalYear | None = None) -> None:
    left = available(fund, year=year)
    if left.amount < 0:
        raise ValidationFailed(
            _("%(what)s %(fund)s would have %(left)s available, less than it has committed.")
            % {"what": what, "fund": fund.name, "left": left}
        )


def open_commitments(fund: Fund, year: FiscalYear | None = None) -> Money:
    rows = Commitment.objects.filter(fund=fund, status=CommitmentStatus.OPEN)
    if year is not None:
        rows = rows.filter(fiscal_year=year)
    return Money(sum_sek(rows), CURRENCY)


def unbooked_commitments(fund: Fund) -> Money:
    """Open commitments whose grant is not yet a cost in the books (made before accrual)."""
    rows = Commitment.objects.filter(
        fund=fund, status=CommitmentStatus.OPEN, accrued_by__isnull=True
    )
    return Money(sum_sek(rows), CURRENCY)


def expensed_in(fund: Fund, year: FiscalYear) -> Money:
    rows = Commitment.objects.filter(fund=fund, fiscal_year=year, status=CommitmentStatus.EXPENSED)
    return Money(sum_sek(rows), CURRENCY)


def expensed_per_fund(year: FiscalYear) -> dict[str, Decimal]:
    """``expensed_in`` for every fund at once, by fund code (one query, for reports)."""
    expensed = Commitment.objects.filter(fiscal_year=year, status=CommitmentStatus.EXPENSED)
    return sum_sek_per(expensed, "fund__code")


def budget_of(fund: Fund, year: FiscalYear) -> Money:
    budget = FundBudget.objects.filter(fund=fund, fiscal_year=year).first()
    return budget.amount if budget is not None else Money(ZERO, CURRENCY)


def available(fund: Fund, *, year: FiscalYear | None = None, on: dt.date | None = None) -> Money:
    """What the fund may still grant (see the module's docstring)."""
    if ceiling_of(fund) == Ceiling.BUDGET:
        year = year or year_of(on or timezone.localdate())
        if year is None:
            return Money(ZERO, CURRENCY)
        return budget_of(fund, year) - open_commitments(fund, year) - expensed_in(fund, year)
    return fund_balance(fund) - unbooked_commitments(fund)


def commit_decision(decision: Any, *, actor: Any) -> list[Commitment]:
    """Reserve each approved item of a decision that takes effect; refuse if not covered."""
    app: Application = decision.application
    fund = lock_fund(app.fund)
    items = [di for di in decision.items.select_related("need_item") if di.amount.amount > 0]
    if not items:
        return []
    already = Commitment.objects.filter(
        need_item__in=[di.need_item for di in items], status=CommitmentStatus.OPEN
    )
    if already.exists():
        raise ValidationFailed(_("These items are already committed."))
    total = sum((Decimal(di.amount.amount) for di in items), ZERO)
    year = fiscal_year_for(timezone.localdate())
    left = available(fund, year=year).amount
    if total > left:
        raise ValidationFailed(
            _(
                "%(fund)s has %(left)s kr available for new decisions (limited by its "
                "%(ceiling)s); this decision needs %(total)s kr."
            )
            % {
                "fund": fund.name,
                "left": left,
                "ceiling": Ceiling(ceiling_of(fund)).label.lower(),
                "total": total,
            }
        )
    now = timezone.now()
    voucher = _book_grant(
        fund,
        total,
        text=f"Beviljat {app.reference} beslut {decision.pk}",
        actor=actor,
        payload={"application": app.reference, "decision": decision.pk},
    )
    rows = Commitment.objects.bulk_create(
        Commitment(
            fund=fund,
            fiscal_year=year,
            application=app,
            need_item=di.need_item,
            decision=decision,
            amount=di.amount,
            created_at=now,
            accrued_by=voucher,
        )
        for di in items
    )
    record_event(
        action="accounting.committed",
        actor=actor,
        role=Role.DECISION_MAKER,
        object_type="fund",
        object_ref=fund.code,
        payload={
            "application": app.reference,
            "decision": decision.pk,
            "items": [{"item": di.need_item.position, "amount": di.amount.amount} for di in items],
            "total": total,
            "available_before": left,
            "voucher": voucher.pk,
        },
    )
    return rows


def accrual_accounts(voucher_id: int) -> tuple[str, str]:
    """(cost account, liability account) a decided grant's voucher booked on.

    A payout settles, and a release reverses, exactly these accounts, whatever the chart
    mapping says now: a role remapped while grants are open would otherwise leave the old
    liability unsettled.
    """
    rows = list(
        Posting.objects.filter(voucher_id=voucher_id).values_list("account__number", "amount")
    )
    cost = next(number for number, amount in rows if amount > 0)
    liability = next(number for number, amount in rows if amount < 0)
    return cost, liability


def accrual_accounts_of(voucher_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """:func:`accrual_accounts` of many decided grants' vouchers, read in a few queries."""
    ids = sorted(set(voucher_ids))
    rows: dict[int, list[tuple[str, Decimal]]] = {}
    for start in range(0, len(ids), 2000):
        for voucher_id, number, amount in Posting.objects.filter(
            voucher_id__in=ids[start : start + 2000]
        ).values_list("voucher_id", "account__number", "amount"):
            rows.setdefault(voucher_id, []).append((number, amount))
    return {
        voucher_id: (
            next(number for number, amount in postings if amount > 0),
            next(number for number, amount in postings if amount < 0),
        )
        for voucher_id, postings in rows.items()
    }


def _book_grant(
    fund: Fund, amount: Decimal, *, text: str, actor: Any, payload: dict[str, Any]
) -> Voucher:
    """The grant as a cost and a liability (positive ``amount``), or its release (negative)."""
    return post_voucher(
        series=VoucherSeries.GRANTS,
        text=text,
        lines=[
            Line(chart.account("grants_paid"), amount, fund=fund),
            Line(chart.account("grants_payable"), -amount, fund=fund),
        ],
        actor=actor,
        audit_payload=payload,
    )


def release_commitments(application: Application, *, actor: Any, reason: str, role: str) -> int:
    """Release the case's open commitments (withdrawal, omprövning, payout given up)."""
    rows = list(
        Commitment.objects.select_for_update().filter(
            application=application, status=CommitmentStatus.OPEN
        )
    )
    if not rows:
        return 0
    # One decision's commitments share their accrual voucher: read its accounts once.
    by_voucher: dict[int, Decimal] = {}
    for c in rows:
        if c.accrued_by_id is not None:
            by_voucher[c.accrued_by_id] = by_voucher.get(c.accrued_by_id, ZERO) + c.amount.amount
    released: dict[tuple[str, str], Decimal] = {}
    for voucher_id, amount in by_voucher.items():
        accounts = accrual_accounts(voucher_id)
        released[accounts] = released.get(accounts, ZERO) + amount
    voucher = None
    if released:
        voucher = post_voucher(
            series=VoucherSeries.GRANTS,
            text=f"Återfört bidrag {application.reference} {reason}"[:120],
            lines=[
                line
                for (cost, liability), amount in sorted(released.items())
                for line in (
                    Line(liability, amount, fund=application.fund),
                    Line(cost, -amount, fund=application.fund),
                )
            ],
            actor=actor,
            audit_payload={"application": application.reference, "reason": reason},
        )
    Commitment.objects.filter(pk__in=[c.pk for c in rows]).update(
        status=CommitmentStatus.RELEASED,
        closed_at=timezone.now(),
        close_reason=reason,
        released_by=voucher,
    )
    record_event(
        action="accounting.commitments_released",
        actor=actor,
        role=role,
        object_type="fund",
        object_ref=application.fund.code,
        payload={
            "application": application.reference,
            "reason": reason,
            "commitments": [c.pk for c in rows],
            "total": sum((c.amount.amount for c in rows), ZERO),
            "voucher": voucher.pk if voucher else None,
        },
    )
    return len(rows)


def accrue_open_commitments(*, actor: Any) -> int:
    """Book the grants decided before accrual (open commitments without a voucher) once.

    For an installation upgraded to accrued grants: each decision's open, unbooked
    commitments get their cost-and-liability voucher today, so the books show every decided
    grant. A fund's available amount does not change (such commitments already held it back).
    Returns the number of vouchers booked; running it again books none.
    """
    require_treasurer(actor=actor, message=_("Only a treasurer may book decided grants."))
    booked = 0
    with transaction.atomic():
        pending = (
            Commitment.objects.filter(status=CommitmentStatus.OPEN, accrued_by__isnull=True)
            .order_by("decision_id")
            .values_list("decision_id", flat=True)
            .distinct()
        )
        for decision_id in list(pending):
            first = Commitment.objects.select_related("application", "fund").filter(
                decision_id=decision_id
            )[0]
            lock_fund(first.fund)
            rows = list(
                Commitment.objects.select_for_update().filter(
                    decision_id=decision_id,
                    status=CommitmentStatus.OPEN,
                    accrued_by__isnull=True,
                )
            )
            if not rows:
                continue
            total = sum((c.amount.amount for c in rows), ZERO)
            voucher = _book_grant(
                first.fund,
                total,
                text=f"Beviljat {first.application.reference} beslut {decision_id}",
                actor=actor,
                payload={
                    "application": first.application.reference,
                    "decision": decision_id,
                    "catch_up": True,
                },
            )
            Commitment.objects.filter(pk__in=[c.pk for c in rows]).update(accrued_by=voucher)
            booked += 1
        if booked:
            record_event(
                action="accounting.open_commitments_accrued",
                actor=actor,
                role=Role.TREASURER,
                object_type="ledger",
                object_ref="commitments",
                payload={"vouchers": booked},
            )
    return booked
