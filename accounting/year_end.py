"""Closing a fiscal year: a treasurer prepares, a second treasurer approves, books and locks.

Preparing runs the checks (earlier years closed, every period of the year closed, every
payment file of the year answered by the bank, no open bank exception) and records what the
approval will book: the restricted-funds transfers (``accounting.restricted_funds``) and the
year's result. Approving recomputes and refuses if anything changed, then books in series E
on the year's last day the transfers and the result voucher (result accounts' net to
``year_result`` 8999 against ``result_of_year`` 2069), on the next year's first day the
disposition of the result (2069 -> ``retained_capital`` 2067), and locks the year: no
voucher of any series can be registered in it again (``ledger.open_period_for`` and the
database, ``accounting/year_end_guards.py``). The next year's ``#IB`` then equals this
year's ``#UB`` per account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting import chart
from accounting.ledger import Line, post_voucher
from accounting.models import (
    AccountType,
    BankException,
    FiscalYear,
    OrderStatus,
    PaymentOrder,
    Period,
    Posting,
    Voucher,
    VoucherSeries,
    YearEndClosing,
)
from accounting.restricted_funds import restricted_funds
from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.models import Fund
from fund.money import quantize

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class YearEndFigures:
    """What a closing books, and the state of the ledger it was computed from."""

    result: Decimal  # net of the year's result accounts, debit +: negative is a surplus
    transfers: list[dict[str, str]]
    vouchers: int
    last_voucher: int

    def as_json(self) -> dict[str, Any]:
        return {
            "result": str(self.result),
            "transfers": self.transfers,
            "vouchers": self.vouchers,
            "last_voucher": self.last_voucher,
        }

    def for_audit(self) -> dict[str, Any]:
        """Amounts as numbers (the audit log takes codes and numbers, never text)."""
        amounts = ("opening", "additions", "gifts", "used", "closing", "transfer")
        return {
            "result": self.result,
            "transfers": [
                {k: Decimal(v) if k in amounts else v for k, v in row.items()}
                for row in self.transfers
            ],
            "vouchers": self.vouchers,
            "last_voucher": self.last_voucher,
        }


def _require_a_treasurer(actor: Any, message: str) -> None:
    """The year-end is the treasurers' own: an administrator (who runs the system and may
    book as a treasurer elsewhere) neither prepares nor approves it, so the two people who
    lock a year are both answerable for the books."""
    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(message)


#: Checks other apps add to a year's closing (co-financing: ESF income accrued), each giving
#: the problems that stop the year from closing. Registered at start-up, run in that order.
ClosingCheck = Callable[[FiscalYear], list[str]]
_closing_checks: list[ClosingCheck] = []


def register_closing_check(check: ClosingCheck) -> None:
    if check not in _closing_checks:
        _closing_checks.append(check)


def fiscal_year(year: int) -> FiscalYear:
    found = FiscalYear.objects.filter(start__year=year).first()
    if found is None:
        raise ValidationFailed(
            _("There is no fiscal year %(year)s in the ledger.") % {"year": year}
        )
    return found


def closing_problems(year: FiscalYear) -> list[str]:
    """Why the year cannot be closed yet (empty: it can)."""
    problems: list[str] = []
    earlier = (
        FiscalYear.objects.filter(start__lt=year.start)
        .exclude(closing__locked_at__isnull=False)
        .order_by("start")
        .first()
    )
    if earlier is not None:
        problems.append(
            _("Close the fiscal year %(year)s first: years are closed in order.")
            % {"year": f"{earlier.start:%Y}"}
        )
    open_periods = Period.objects.filter(fiscal_year=year, closed_at__isnull=True).order_by("start")
    if open_periods.exists():
        problems.append(
            _(
                "%(count)s periods of the year are still open, the first %(first)s: close them "
                "first."
            )
            % {"count": open_periods.count(), "first": f"{open_periods[0].start:%Y-%m}"}
        )
    unanswered = PaymentOrder.objects.filter(
        in_file=True, status=OrderStatus.SCHEDULED, batch__execution_date__lte=year.end
    )
    if unanswered.exists():
        problems.append(
            _(
                "%(count)s payment orders of the year are in a file the bank has not answered "
                "yet (the first PO-%(order)s): book the bank's answer first."
            )
            % {"count": unanswered.count(), "order": unanswered.order_by("pk")[0].pk}
        )
    exceptions = BankException.objects.filter(resolution="", booking_date__lte=year.end)
    if exceptions.exists():
        problems.append(
            _("%(count)s bank exceptions of the year are open: resolve them first.")
            % {"count": exceptions.count()}
        )
    for check in _closing_checks:
        problems += check(year)
    return problems


def compute_figures(year: FiscalYear) -> YearEndFigures:
    postings = Posting.objects.filter(voucher__fiscal_year=year)
    result = postings.filter(account__type__in=(AccountType.INCOME, AccountType.EXPENSE)).aggregate(
        total=Sum("amount")
    )["total"]
    vouchers = Voucher.objects.filter(fiscal_year=year).aggregate(n=Count("pk"), last=Max("pk"))
    return YearEndFigures(
        result=quantize(result or ZERO),
        transfers=[row.as_figures() for row in restricted_funds(year) if row.transfer],
        vouchers=int(vouchers["n"] or 0),
        last_voucher=int(vouchers["last"] or 0),
    )


def _refuse_problems(year: FiscalYear) -> None:
    problems = closing_problems(year)
    if problems:
        raise ValidationFailed(problems)


def prepare_year_end(year: FiscalYear, *, actor: Any) -> YearEndClosing:
    """Run the checks and record what the approval will book (again, if prepared before)."""
    _require_a_treasurer(actor, _("Only a treasurer may prepare the year-end."))
    with transaction.atomic():
        year = FiscalYear.objects.select_for_update().get(pk=year.pk)
        closing = YearEndClosing.objects.filter(fiscal_year=year).first()
        if closing is not None and closing.approved_at is not None:
            raise ValidationFailed(
                _("The year-end of %(year)s is already approved.") % {"year": f"{year.start:%Y}"}
            )
        _refuse_problems(year)
        figures = compute_figures(year)
        if closing is None:
            closing = YearEndClosing(fiscal_year=year)
        closing.prepared_by = actor
        closing.prepared_at = timezone.now()
        closing.figures = figures.as_json()
        closing.disposition_date = year.end + dt.timedelta(days=1)
        closing.save()
        record_event(
            action="ledger.year_end_prepared",
            actor=actor,
            role=Role.TREASURER,
            object_type="fiscal_year",
            object_ref=f"{year.start:%Y}",
            payload={"fiscal_year": year.pk, "closing": closing.pk, **figures.for_audit()},
        )
    return closing


def approve_year_end(year: FiscalYear, *, actor: Any) -> YearEndClosing:
    """A second treasurer books the prepared closing and locks the year (twice: nothing new)."""
    _require_a_treasurer(actor, _("Only a treasurer may approve the year-end."))
    with transaction.atomic():
        closing = YearEndClosing.objects.select_for_update().filter(fiscal_year_id=year.pk).first()
        if closing is None:
            raise ValidationFailed(
                _("The year-end of %(year)s is not prepared yet.") % {"year": f"{year.start:%Y}"}
            )
        if closing.is_locked:
            return closing
        if closing.prepared_by_id == getattr(actor, "pk", None):
            raise PermissionDenied(
                _("You prepared this year-end; a second treasurer must approve it.")
            )
        year = closing.fiscal_year
        _refuse_problems(year)
        figures = compute_figures(year)
        if figures.as_json() != closing.figures:
            raise ValidationFailed(
                _(
                    "The books of %(year)s changed since the year-end was prepared; "
                    "prepare it again and have it approved."
                )
                % {"year": f"{year.start:%Y}"}
            )
        closing.approved_by = actor
        closing.approved_at = timezone.now()
        closing.save(update_fields=["approved_by", "approved_at"])
        booked = _book(year, closing, figures, actor)
        closing.vouchers = [v.pk for v in booked]
        closing.locked_at = timezone.now()
        closing.save(update_fields=["vouchers", "locked_at"])
        record_event(
            action="ledger.year_end_approved",
            actor=actor,
            role=Role.TREASURER,
            object_type="fiscal_year",
            object_ref=f"{year.start:%Y}",
            payload={
                "fiscal_year": year.pk,
                "closing": closing.pk,
                "prepared_by": closing.prepared_by_id,
                **figures.for_audit(),
                "vouchers": closing.vouchers,
            },
        )
    return closing


def _book(
    year: FiscalYear, closing: YearEndClosing, figures: YearEndFigures, actor: Any
) -> list[Voucher]:
    booked: list[Voucher] = []
    label = f"{year.start:%Y}"
    funds = {
        f.code: f for f in Fund.objects.filter(code__in=[t["fund"] for t in figures.transfers])
    }
    lines: list[Line] = []
    for transfer in figures.transfers:
        amount = Decimal(transfer["transfer"])
        fund = funds[transfer["fund"]]
        lines.append(Line(chart.account("retained_capital"), amount, fund=fund))
        lines.append(Line(transfer["account"], -amount, fund=fund))
    if lines:
        booked.append(_post(f"Ändamålsbestämda medel, omföring {label}", lines, year.end, actor))
    if figures.result:
        booked.append(
            _post(
                f"Årets resultat {label}",
                [
                    Line(chart.account("year_result"), -figures.result),
                    Line(chart.account("result_of_year"), figures.result),
                ],
                year.end,
                actor,
            )
        )
        booked.append(
            _post(
                f"Disposition av resultat {label}",
                [
                    Line(chart.account("result_of_year"), -figures.result),
                    Line(chart.account("retained_capital"), figures.result),
                ],
                closing.disposition_date,
                actor,
            )
        )
    return booked


def _post(text: str, lines: list[Line], date: dt.date, actor: Any) -> Voucher:
    return post_voucher(
        series=VoucherSeries.YEAR_END,
        text=text,
        lines=lines,
        actor=actor,
        date=date,
        year_end_window=True,
    )
