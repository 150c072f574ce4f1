"""Double entry: fiscal years and periods, vouchers and postings, income, reversals, balances.

Every voucher is numbered without gaps per fiscal year and series (a counter row locked for
the transaction), balances to exactly zero (checked here and by the database at commit) and
is never changed afterwards: a correction is a reversal voucher.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from accounting import chart
from accounting.models import (
    Account,
    AccountType,
    Dimension,
    DimensionObject,
    FiscalYear,
    Period,
    Posting,
    Voucher,
    VoucherCounter,
    VoucherSeal,
    VoucherSeries,
    YearEndClosing,
)
from audit.services import NewEvent, record_event, record_events
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.models import Fund
from fund.money import CURRENCY, parse_amount, quantize

ZERO = Decimal("0.00")

#: Income kinds; each is also the chart role (``accounting.chart``) of the account it credits.
INCOME_KINDS = ("donation", "grant_eu", "grant_state", "grant_municipal")
#: An opening balance or transfer into the fund's restricted funds (2070-2072).
RESTRICTED_CAPITAL = "restricted_capital"

#: Accounts whose fund-dimension postings make up a fund's capital (negated: credit = more).
CAPITAL_TYPES = (AccountType.INCOME, AccountType.EXPENSE, AccountType.EQUITY)

#: A reference on a voucher is a code (bank or Swish reference, case number), never a name.
_REFERENCE = re.compile(r"^(?=.*[0-9])[A-Z0-9][A-Z0-9\-/.:]{0,39}$")
_PERSONNUMMER = re.compile(r"\b(19|20)?\d{6}[-+]?\d{4}\b")


@dataclass(frozen=True)
class Line:
    """One posting to be made: account, signed amount (debit +, credit -), dimensions."""

    account: str
    amount: Decimal
    fund: Fund | None = None
    project: DimensionObject | None = None
    cost_centre: DimensionObject | None = None


def require_treasurer(*, actor: Any, message: str | None = None) -> None:
    if not (has_role(actor, Role.TREASURER) or has_role(actor, Role.ADMINISTRATOR)):
        raise PermissionDenied(message or _("Only a treasurer may book in the ledger."))


def amount_of(value: Money | Decimal | int | str) -> Decimal:
    """A Decimal in öre from a Money (SEK only) or a number."""
    if isinstance(value, Money):
        if str(value.currency) != CURRENCY:
            raise ValidationFailed(_("Only SEK can be booked."))
        value = value.amount
    return quantize(Decimal(str(value)))


def sum_sek(queryset: QuerySet[Any], field: str = "amount") -> Decimal:
    """Sum a MoneyField grouped by currency; the ledger holds SEK only."""
    rows = list(
        queryset.order_by()
        .values(f"{field}_currency")
        .annotate(total=Sum(field))
        .values_list(f"{field}_currency", "total")
    )
    other = [currency for currency, _total in rows if currency != CURRENCY]
    if other:
        raise ValidationFailed(_("Amounts in %(c)s found; only SEK is kept.") % {"c": other})
    return quantize(sum((total or ZERO for _c, total in rows), ZERO))


def sum_sek_per(queryset: QuerySet[Any], key: str, field: str = "amount") -> dict[Any, Decimal]:
    """:func:`sum_sek` per value of ``key`` (e.g. ``"fund__code"``), in one query."""
    rows = list(
        queryset.order_by()
        .values(key, f"{field}_currency")
        .annotate(total=Sum(field))
        .values_list(key, f"{field}_currency", "total")
    )
    other = sorted({currency for _k, currency, _t in rows if currency != CURRENCY})
    if other:
        raise ValidationFailed(_("Amounts in %(c)s found; only SEK is kept.") % {"c": other})
    totals: dict[Any, Decimal] = {}
    for value, _currency, total in rows:
        totals[value] = totals.get(value, ZERO) + (total or ZERO)
    return {value: quantize(total) for value, total in totals.items()}


# --------------------------------------------------------------------------------------
# Fiscal years, periods, dimensions
# --------------------------------------------------------------------------------------


def year_of(date: dt.date) -> FiscalYear | None:
    """The fiscal year holding ``date``, if it has been opened (reads never create one)."""
    return FiscalYear.objects.filter(start__lte=date, end__gte=date).first()


def fiscal_year_for(date: dt.date) -> FiscalYear:
    """The (calendar) fiscal year holding ``date``, opened with its 12 periods if missing."""
    year = year_of(date)
    if year is not None:
        return year
    with transaction.atomic():
        year, created = FiscalYear.objects.get_or_create(
            start=dt.date(date.year, 1, 1), defaults={"end": dt.date(date.year, 12, 31)}
        )
        Period.objects.bulk_create(
            [
                Period(
                    fiscal_year=year,
                    start=dt.date(date.year, month, 1),
                    end=dt.date(date.year, month, calendar.monthrange(date.year, month)[1]),
                )
                for month in range(1, 13)
            ],
            ignore_conflicts=True,
        )
        if created:
            record_event(
                action="ledger.fiscal_year_opened",
                object_type="fiscal_year",
                object_ref=str(date.year),
                payload={"fiscal_year": year.pk, "start": year.start.isoformat()},
            )
    return year


def open_period_for(date: dt.date, *, year_end_window: bool = False) -> Period:
    """The open period holding ``date``, locked against closing until the caller commits.

    On PostgreSQL the row is read ``FOR SHARE``: a ``close_period`` not yet committed is
    waited for (and its outcome seen), and a period cannot be closed under a voucher being
    posted. SQLite writes one transaction at a time, so a plain read suffices there.

    A year whose closing is locked takes nothing. ``year_end_window`` (the approval of a
    closing, series E only) lets a closed period take the year-end vouchers while that
    closing is approved and not yet locked; the database checks the same.
    """
    fiscal_year_for(date)
    period = _period_for_share(date)
    refuse_locked_year(period.fiscal_year)
    if period.is_closed and not (year_end_window and _in_approval_window(date)):
        raise ValidationFailed(_closed_period_message(period))
    return period


def _closed_period_message(period: Period) -> str:
    return closed_period_meaning(period)


def closed_period_meaning(period: Period) -> str:
    """What a closed period means, in the words the refusal and the pages use."""
    return _(
        "The period %(period)s is closed: no more vouchers can be booked in it; corrections "
        "are booked in an open period."
    ) % {"period": f"{period.start:%Y-%m}"}


def booking_problems(dates: Iterable[dt.date]) -> list[str]:
    """Why vouchers dated ``dates`` could not be booked now; reads only, opens nothing.

    A bank file is checked whole before any of it is booked: a payment dated in a closed
    period or a locked year, or a pending chart remap, refuses the file, instead of stopping
    its booking half-way."""
    problems: list[str] = []
    try:
        refuse_while_remap_pending()
    except ValidationFailed as exc:
        problems += exc.messages
    for date in sorted(set(dates)):
        year = year_of(date)
        if year is None:
            continue  # opened, with open periods, when the first voucher is booked
        try:
            refuse_locked_year(year)
        except ValidationFailed as exc:
            problems += exc.messages
            continue
        period = Period.objects.filter(start__lte=date, end__gte=date).first()
        if period is not None and period.is_closed:
            problems.append(_closed_period_message(period))
    return problems


def lock_voucher_counters(dates: Iterable[dt.date], series: Iterable[str]) -> None:
    """Take the counters of ``series`` for the years of ``dates`` now, in one order.

    The lock order puts the voucher counter before the audit chain's head. A booking that
    appends events before its first voucher (a bank file: the batch marked sent, failed orders)
    takes its counters first, so it never waits for a counter while holding the head."""
    years = sorted({fiscal_year_for(date).pk for date in dates})
    for year_id in years:
        for code in sorted(set(series)):
            VoucherCounter.objects.bulk_create(
                [VoucherCounter(fiscal_year_id=year_id, series=code)], ignore_conflicts=True
            )
    counters = VoucherCounter.objects.select_for_update().filter(
        fiscal_year_id__in=years, series__in=sorted(set(series))
    )
    list(counters.order_by("fiscal_year_id", "series"))


def refuse_locked_year(year: FiscalYear) -> None:
    if YearEndClosing.objects.filter(fiscal_year=year, locked_at__isnull=False).exists():
        raise ValidationFailed(
            _(
                "The fiscal year %(year)s is closed (its year-end is approved) and takes no "
                "vouchers; book the correction in an open year."
            )
            % {"year": f"{year.start:%Y}"}
        )


def _in_approval_window(date: dt.date) -> bool:
    return YearEndClosing.objects.filter(
        approved_at__isnull=False,
        locked_at__isnull=True,
        fiscal_year__start__lte=date,
        disposition_date__gte=date,
    ).exists()


def _period_for_share(date: dt.date) -> Period:
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return Period.objects.get(start__lte=date, end__gte=date)
    table = Period._meta.db_table
    rows = list(
        Period.objects.raw(
            f'SELECT * FROM {table} WHERE start <= %s AND "end" >= %s FOR SHARE',  # noqa: S608 # nosec B608
            [date, date],
        )
    )
    if len(rows) != 1:
        raise Period.DoesNotExist(f"no single period holds {date}")
    return rows[0]


def close_period(period: Period, *, actor: Any) -> Period:
    require_treasurer(actor=actor, message=_("Only a treasurer may close a period."))
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if period.is_closed:
            return period
        earlier_open = Period.objects.filter(start__lt=period.start, closed_at__isnull=True)
        if earlier_open.exists():
            raise ValidationFailed(_("Close the earlier periods first."))
        period.closed_at = timezone.now()
        period.closed_by = actor
        period.save(update_fields=["closed_at", "closed_by"])
        record_event(
            action="ledger.period_closed",
            actor=actor,
            role=Role.TREASURER,
            object_type="period",
            object_ref=f"{period.start:%Y-%m}",
            payload={"period": period.pk, "start": period.start.isoformat()},
        )
    return period


def fund_object(fund: Fund) -> DimensionObject:
    """The fund's object in the fund dimension (20), from ``Fund.accounting_dimension``."""
    existing = DimensionObject.objects.filter(fund=fund).first()
    if existing is not None:
        return existing
    dimension = Dimension.objects.get(number=Dimension.FUND)
    obj, _created = DimensionObject.objects.get_or_create(
        dimension=dimension,
        code=fund.accounting_dimension,
        defaults={"name": fund.name[:120], "fund": fund},
    )
    if obj.fund_id != fund.pk:
        raise ValidationFailed(
            _("The accounting object %(code)s belongs to another fund.")
            % {"code": fund.accounting_dimension}
        )
    return obj


# --------------------------------------------------------------------------------------
# Vouchers
# --------------------------------------------------------------------------------------


def _check_text(text: str) -> str:
    text = " ".join(text.split())
    if not text or len(text) > 120:
        raise ValidationFailed(_("A voucher needs a text of at most 120 characters."))
    if _PERSONNUMMER.search(text):
        raise ValidationFailed(_("A voucher text may not contain a personal identity number."))
    return text


def _next_number(year: FiscalYear, series: str, count: int = 1) -> int:
    """The first of ``count`` consecutive voucher numbers, taken under the counter's lock."""
    VoucherCounter.objects.bulk_create(
        [VoucherCounter(fiscal_year=year, series=series)], ignore_conflicts=True
    )
    counter = VoucherCounter.objects.select_for_update().get(fiscal_year=year, series=series)
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return counter.last_number - count + 1


def refuse_while_remap_pending() -> None:
    """Services book through chart roles: while the settings map a role elsewhere than the
    books do, they would book on an account the books do not yet use (one query). Manual
    vouchers stay open: they move a balance before the remap."""
    pending = chart.pending_changes()
    if pending:
        raise ValidationFailed(
            _(
                "The chart mapping in the settings is not applied to the books yet (%(roles)s). "
                "A treasurer applies it first (manage.py chart_mapping --apply); until then "
                "only manual vouchers are booked."
            )
            % {
                "roles": ", ".join(
                    f"{change.role} {change.books} -> {change.settings}" for change in pending
                )
            }
        )


def post_voucher(
    *,
    series: str,
    text: str,
    lines: Sequence[Line],
    actor: Any,
    date: dt.date | None = None,
    reverses: Voucher | None = None,
    audit_payload: dict[str, Any] | None = None,
    year_end_window: bool = False,
) -> Voucher:
    """Book one balanced voucher (internal: callers check the actor's role).

    ``year_end_window`` is for ``accounting.year_end`` only (see ``open_period_for``).
    """
    date = date or timezone.localdate()
    if series not in VoucherSeries.values:
        raise ValidationFailed(_("Unknown voucher series."))
    if year_end_window and series != VoucherSeries.YEAR_END:
        raise ValidationFailed(_("Only year-end vouchers (series E) close a year."))
    text = _check_text(text)
    if series != VoucherSeries.MANUAL:
        refuse_while_remap_pending()
    accounts = {a.number: a for a in Account.objects.filter(number__in={x.account for x in lines})}
    problems = _line_problems(lines, accounts)
    amounts = [amount_of(line.amount) for line in lines]
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        period = open_period_for(date, year_end_window=year_end_window)
        year = period.fiscal_year
        fund_objects = {
            line.fund.pk: fund_object(line.fund) for line in lines if line.fund is not None
        }
        voucher = Voucher.objects.create(
            fiscal_year=year,
            series=series,
            number=_next_number(year, series),
            date=date,
            text=text,
            reverses=reverses,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=timezone.now(),
        )
        Posting.objects.bulk_create(
            Posting(
                voucher=voucher,
                seal_id=voucher.pk,
                account=accounts[line.account],
                amount=amount,
                amount_currency=CURRENCY,
                fund_object=fund_objects.get(line.fund.pk) if line.fund else None,
                project=line.project,
                cost_centre=line.cost_centre,
            )
            for line, amount in zip(lines, amounts, strict=True)
        )
        VoucherSeal.objects.create(voucher=voucher, sealed_at=timezone.now())
        record_event(
            action="ledger.voucher_posted",
            actor=actor,
            role=Role.TREASURER,
            object_type="voucher",
            object_ref=f"{series}{voucher.number}/{year.start:%Y}",
            payload={
                "voucher": voucher.pk,
                "series": series,
                "number": voucher.number,
                "date": date.isoformat(),
                "reverses": reverses.pk if reverses else None,
                "postings": [
                    {
                        "account": line.account,
                        "amount": amount,
                        "fund": line.fund.accounting_dimension if line.fund else None,
                    }
                    for line, amount in zip(lines, amounts, strict=True)
                ],
                **(audit_payload or {}),
            },
        )
    return voucher


@dataclass(frozen=True)
class VoucherDraft:
    """One voucher for :func:`post_vouchers`: its text, lines and audit payload."""

    text: str
    lines: Sequence[Line]
    audit_payload: Mapping[str, Any] | None = None


def _line_problems(lines: Sequence[Line], accounts: Mapping[str, Account]) -> list[str]:
    """Why these postings are no voucher: too few, a zero, unbalanced, an unknown account."""
    amounts = [amount_of(line.amount) for line in lines]
    problems: list[str] = []
    if len(lines) < 2:
        problems.append(_("A voucher needs at least two postings."))
    if any(a == 0 for a in amounts):
        problems.append(_("A posting of 0 kr says nothing; leave it out."))
    total = sum(amounts, ZERO)
    if total != 0:
        debit = sum((a for a in amounts if a > 0), ZERO)
        problems.append(
            _("The voucher does not balance: debit %(debit)s, credit %(credit)s.")
            % {"debit": debit, "credit": debit - total}
        )
    for line in lines:
        account = accounts.get(line.account)
        if account is None or not account.active:
            problems.append(_("Account %(a)s is not in the chart.") % {"a": line.account})
    return problems


def post_vouchers(
    drafts: Sequence[VoucherDraft], *, series: str, actor: Any, date: dt.date | None = None
) -> list[Voucher]:
    """Book many balanced vouchers of one series and date at once (internal, like
    :func:`post_voucher`): a bank file's payments.

    Each voucher gets what :func:`post_voucher` would give it — the checks, the next number in
    turn, its postings, its seal and its ``ledger.voucher_posted`` event — but the period, the
    accounts, the fund objects and the counter are read once and the rows are written in a few
    statements, so the cost does not grow per voucher beyond its rows. All or none are booked.
    """
    if not drafts:
        return []
    date = date or timezone.localdate()
    if series not in VoucherSeries.values or series == VoucherSeries.YEAR_END:
        raise ValidationFailed(_("Unknown voucher series."))
    texts = [_check_text(draft.text) for draft in drafts]
    if series != VoucherSeries.MANUAL:
        refuse_while_remap_pending()
    numbers = {line.account for draft in drafts for line in draft.lines}
    accounts = {a.number: a for a in Account.objects.filter(number__in=numbers)}
    problems = sorted({p for draft in drafts for p in _line_problems(draft.lines, accounts)})
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        year = open_period_for(date).fiscal_year
        funds = {line.fund.pk: line.fund for d in drafts for line in d.lines if line.fund}
        fund_objects = {pk: fund_object(fund) for pk, fund in sorted(funds.items())}
        first = _next_number(year, series, len(drafts))
        now = timezone.now()
        vouchers = Voucher.objects.bulk_create(
            Voucher(
                fiscal_year=year,
                series=series,
                number=first + index,
                date=date,
                text=text,
                created_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
            )
            for index, text in enumerate(texts)
        )
        if any(v.pk is None for v in vouchers):  # backends without RETURNING
            vouchers = list(
                Voucher.objects.filter(
                    fiscal_year=year,
                    series=series,
                    number__gte=first,
                    number__lt=first + len(drafts),
                ).order_by("number")
            )
        Posting.objects.bulk_create(
            Posting(
                voucher=voucher,
                seal_id=voucher.pk,
                account=accounts[line.account],
                amount=amount_of(line.amount),
                amount_currency=CURRENCY,
                fund_object=fund_objects.get(line.fund.pk) if line.fund else None,
                project=line.project,
                cost_centre=line.cost_centre,
            )
            for voucher, draft in zip(vouchers, drafts, strict=True)
            for line in draft.lines
        )
        VoucherSeal.objects.bulk_create(
            VoucherSeal(voucher=voucher, sealed_at=now) for voucher in vouchers
        )
        record_events(
            [
                NewEvent(
                    action="ledger.voucher_posted",
                    actor=actor,
                    role=Role.TREASURER,
                    object_type="voucher",
                    object_ref=f"{series}{voucher.number}/{year.start:%Y}",
                    payload=_posted_payload(voucher, date, draft.lines, draft.audit_payload),
                )
                for voucher, draft in zip(vouchers, drafts, strict=True)
            ]
        )
    return vouchers


def _posted_payload(
    voucher: Voucher,
    date: dt.date,
    lines: Sequence[Line],
    extra: Mapping[str, Any] | None,
    reverses: Voucher | None = None,
) -> dict[str, Any]:
    """The ``ledger.voucher_posted`` event's payload (one shape for both ways of posting)."""
    return {
        "voucher": voucher.pk,
        "series": voucher.series,
        "number": voucher.number,
        "date": date.isoformat(),
        "reverses": reverses.pk if reverses else None,
        "postings": [
            {
                "account": line.account,
                "amount": amount_of(line.amount),
                "fund": line.fund.accounting_dimension if line.fund else None,
            }
            for line in lines
        ],
        **(extra or {}),
    }


def record_income(
    fund: Fund,
    amount: Any,
    *,
    kind: str,
    actor: Any,
    reference: str,
    date: dt.date | None = None,
) -> Voucher:
    """Book money received for a fund: bank (1930) against income or restricted funds.

    ``kind`` is ``donation`` (3993), ``grant_eu`` (3981), ``grant_state`` (3985),
    ``grant_municipal`` (3987) or ``restricted_capital`` (the fund's 2070-2072 account, for
    an opening balance). ``reference`` is a code (bank or Swish reference), never a name.
    """
    require_treasurer(actor=actor, message=_("Only a treasurer may record income."))
    try:
        money = parse_amount(amount, field=_("Amount")).amount
    except ValidationError as exc:
        raise ValidationFailed(exc.messages) from exc
    if kind == RESTRICTED_CAPITAL:
        account = fund.restricted_funds_account
    elif kind in INCOME_KINDS:
        account = chart.account(kind)
    else:
        raise ValidationFailed(_("Choose what kind of income this is."))
    reference = checked_reference(reference)
    return post_voucher(
        series=VoucherSeries.INCOME,
        text=f"{_income_label(kind)} {fund.accounting_dimension} {reference}",
        lines=[
            Line(chart.account("bank"), money, fund=fund),
            Line(account, -money, fund=fund),
        ],
        actor=actor,
        date=date,
        audit_payload={"kind": kind, "fund": fund.code, "reference": reference},
    )


def checked_reference(reference: str) -> str:
    """A bank or payment reference as vouchers carry it: a code, never a name."""
    reference = reference.strip().upper()
    if not _REFERENCE.match(reference):
        raise ValidationFailed(
            _(
                "The income reference must be a code with at least one digit (letters A-Z, "
                "digits, - / . :), at most 40 characters; never a donor's name."
            )
        )
    return reference


def _income_label(kind: str) -> str:
    return {
        "donation": "Gåvor",
        "grant_eu": "EU-bidrag",
        "grant_state": "Statligt bidrag",
        "grant_municipal": "Kommunalt bidrag",
        RESTRICTED_CAPITAL: "Ändamålsbestämda medel",
    }[kind]


def reverse_voucher(voucher: Voucher, *, actor: Any, date: dt.date | None = None) -> Voucher:
    """Correct a voucher by booking its exact opposite (the original stays as it was).

    Payout vouchers are corrected through their payment order, not here. A reversal that
    would leave a fund with less available than it has committed is refused.
    """
    require_treasurer(actor=actor, message=_("Only a treasurer may reverse a voucher."))
    from accounting import commitments

    with transaction.atomic():
        if voucher.series == VoucherSeries.PAYOUT:
            raise ValidationFailed(
                _("A payout voucher is corrected through its payment order, not reversed here.")
            )
        if voucher.series in (VoucherSeries.GRANTS, VoucherSeries.YEAR_END):
            raise ValidationFailed(
                _(
                    "Voucher %(v)s follows a decision or the year-end; it is corrected through "
                    "the case (withdrawal, omprövning) or the year-end routine, not reversed here."
                )
                % {"v": voucher.label}
            )
        if Voucher.objects.filter(reverses=voucher).exists():
            raise ValidationFailed(_("Voucher %(v)s is already reversed.") % {"v": voucher.label})
        if voucher.reverses_id is not None:
            raise ValidationFailed(_("A reversal is not reversed; book the voucher anew."))
        postings = list(voucher.postings.select_related("account", "fund_object__fund"))
        funds = {p.fund_object.fund for p in postings if p.fund_object and p.fund_object.fund}
        before = {}
        for fund in sorted(funds, key=lambda f: f.pk):
            commitments.lock_fund(fund)
            before[fund] = commitments.available(fund).amount
        reversal = post_voucher(
            series=VoucherSeries.MANUAL,
            text=f"Rättelse av {voucher.series}{voucher.number}",
            lines=[
                Line(
                    p.account.number,
                    -p.amount.amount,
                    fund=p.fund_object.fund if p.fund_object else None,
                    project=p.project,
                    cost_centre=p.cost_centre,
                )
                for p in postings
            ],
            actor=actor,
            date=date,
            reverses=voucher,
        )
        for fund, was in before.items():
            after = commitments.available(fund).amount
            if after < 0 and after < was:
                raise ValidationFailed(
                    _(
                        "Reversing %(v)s would leave %(fund)s with %(after)s available after its "
                        "commitments; release commitments first."
                    )
                    % {"v": voucher.label, "fund": fund.name, "after": after}
                )
        return reversal


# --------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------


def fund_postings(fund: Fund) -> QuerySet[Posting]:
    return Posting.objects.filter(fund_object__fund=fund)


def fund_balance(fund: Fund) -> Money:
    """The fund's capital: restricted funds plus income minus grants paid, over all years."""
    total = sum_sek(fund_postings(fund).filter(account__type__in=CAPITAL_TYPES))
    return Money(-total, CURRENCY)


def fund_bank_balance(fund: Fund) -> Money:
    return Money(
        sum_sek(fund_postings(fund).filter(account__number=chart.account("bank"))), CURRENCY
    )


def trial_balance(year: FiscalYear | None = None) -> dict[str, Decimal]:
    """Per account, the sum of its postings (debit +, credit -); the sum of all is zero."""
    postings = Posting.objects.all()
    if year is not None:
        postings = postings.filter(voucher__fiscal_year=year)
    rows = (
        postings.order_by()
        .values("account__number", "amount_currency")
        .annotate(total=Sum("amount"))
        .values_list("account__number", "amount_currency", "total")
    )
    result: dict[str, Decimal] = {}
    for number, currency, total in rows:
        if currency != CURRENCY:
            raise ValidationFailed(_("Only SEK is kept in the ledger."))
        result[number] = result.get(number, ZERO) + quantize(total)
    return dict(sorted(result.items()))
