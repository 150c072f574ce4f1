"""ESF income accrued: earned as the eligible costs arise, settled when the money comes.

Vouchers (series B, every posting on the project's dimension-6 object):

* accrual up to a date, for the entitlement not yet recognised (rate x eligible cost
  to the date, less what is already recognised): ``accrued_income`` (1790) debit, or
  ``conditional_grants`` (2880) debit as far as money came in ahead; ``grant_eu`` (3981)
  credit. Costs corrected downwards make the opposite voucher.
* money received: ``bank`` (1930) debit; ``accrued_income`` (1790) credit up to the
  receivable, ``conditional_grants`` (2880) credit for the rest (received ahead of costs).

Accruing twice to the same date books nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting import chart
from accounting.ledger import Line, checked_reference, post_voucher
from accounting.models import Dimension, DimensionObject, Voucher, VoucherSeries
from audit.services import record_event
from cofinancing.esf_ledger import ZERO, esf_ledger, last_income_date
from cofinancing.models import FundingKind, Project
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.money import parse_amount, quantize


def _require_treasurer(actor: Any) -> None:
    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(_("Only a treasurer may book co-financing income."))


def _project_object(project: Project) -> DimensionObject:
    obj, _created = DimensionObject.objects.get_or_create(
        dimension=Dimension.objects.get(number=Dimension.PROJECT),
        code=project.code,
        defaults={"name": project.name},
    )
    return obj


def esf_ceiling(project: Project) -> Decimal | None:
    """The ESF amount the co-financier decided (the sum of the ESF sources' decided amounts);
    None when no amount is decided (the rate alone then limits)."""
    amounts = [
        source.decided_amount.amount
        for source in project.funding.filter(kind=FundingKind.ESF)
        if source.decided_amount is not None
    ]
    return quantize(sum(amounts, ZERO)) if amounts else None


def esf_at_rate(project: Project, up_to: dt.date) -> Decimal:
    """The decided rate times the eligible cost from the project's start to ``up_to``."""
    from cofinancing.report import eligible_cost

    end = min(up_to, project.end)
    if end < project.start:
        return ZERO
    return quantize(eligible_cost(project, end) * project.esf_rate)


def esf_entitlement(project: Project, up_to: dt.date) -> Decimal:
    """What the project has earned: the rate's share of its eligible cost to ``up_to``, never
    more than the ESF amount decided (income beyond the decision is no income)."""
    at_rate = esf_at_rate(project, up_to)
    ceiling = esf_ceiling(project)
    return at_rate if ceiling is None else min(at_rate, ceiling)


def accrue_esf_income(project: Project, *, actor: Any, up_to: dt.date) -> Voucher | None:
    """Recognise the ESF income earned by the eligible costs up to ``up_to``."""
    _require_treasurer(actor)
    return book_esf_accrual(project, actor=actor, up_to=up_to)


def book_esf_accrual(project: Project, *, actor: Any, up_to: dt.date) -> Voucher | None:
    """The accrual itself (callers check the role: the service above, the demo seed)."""
    if up_to > timezone.localdate():
        raise ValidationFailed(
            _(
                "ESF income is accrued for costs that have arisen: %(d)s is still to come; "
                "accrue to today or an earlier day."
            )
            % {"d": up_to.isoformat()}
        )
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        last = last_income_date(project)
        if last is not None and last > up_to:
            raise ValidationFailed(
                _(
                    "ESF income of project %(p)s is already booked up to %(d)s; accrue to that "
                    "date or a later one."
                )
                % {"p": project.code, "d": last.isoformat()}
            )
        entitled = esf_entitlement(project, up_to)
        books = esf_ledger(project)
        new = entitled - books.recognised
        if new == 0:
            return None
        obj = _project_object(project)
        if new > 0:
            from_advance = min(new, books.advance)
            debits = [
                (chart.account("conditional_grants"), from_advance),
                (chart.account("accrued_income"), new - from_advance),
            ]
        else:
            from_receivable = min(-new, books.receivable)
            debits = [
                (chart.account("accrued_income"), -from_receivable),
                (chart.account("conditional_grants"), new + from_receivable),
            ]
        lines = [Line(account, amount, project=obj) for account, amount in debits if amount]
        lines.append(Line(chart.account("grant_eu"), -new, project=obj))
        voucher = post_voucher(
            series=VoucherSeries.INCOME,
            text=f"ESF-intäkt upplupen {project.code} t.o.m. {up_to.isoformat()}",
            lines=lines,
            actor=actor,
            date=up_to,
            audit_payload={"project": project.pk, "entitled": entitled},
        )
        record_event(
            action="cofinancing.esf_income_accrued",
            actor=actor,
            role=Role.TREASURER,
            object_type="project",
            object_ref=project.code,
            payload={
                "project": project.pk,
                "voucher": voucher.pk,
                "up_to": up_to.isoformat(),
                "entitled": entitled,
                "accrued": new,
            },
        )
    return voucher


def _receipt_with(project: Project, text: str) -> Voucher | None:
    """The receipt booked under this reference before (its voucher text names it)."""
    return (
        Voucher.objects.filter(series=VoucherSeries.INCOME, text=text)
        .filter(postings__project__code=project.code)
        .distinct()
        .first()
    )


def _same_receipt_again(
    voucher: Voucher, amount: Decimal, date: dt.date, reference: str
) -> Voucher:
    """A payment is booked once under its reference: the same again (a reload, a double
    click) returns the voucher booked; another amount or day under it is refused."""
    bank = chart.accounts_of("bank")
    booked = sum(
        (p.amount.amount for p in voucher.postings.all() if p.account.number in bank), ZERO
    )
    if (booked, voucher.date) == (amount, date):
        return voucher
    raise ValidationFailed(
        _(
            "A payment with the reference %(r)s is already booked (%(a)s on %(d)s, voucher "
            "%(v)s); a payment is booked once under its reference."
        )
        % {"r": reference, "a": booked, "d": voucher.date.isoformat(), "v": voucher.label}
    )


def receive_esf_payment(
    project: Project, *, actor: Any, amount: Any, date: dt.date, reference: str
) -> Voucher:
    """Book money from the co-financier: it settles the receivable, the rest is an advance."""
    _require_treasurer(actor)
    return book_esf_receipt(project, actor=actor, amount=amount, date=date, reference=reference)


def book_esf_receipt(
    project: Project, *, actor: Any, amount: Any, date: dt.date, reference: str
) -> Voucher:
    """The receipt itself (callers check the role)."""
    try:
        money = parse_amount(amount, field=_("Amount")).amount
    except ValidationError as exc:
        raise ValidationFailed(exc.messages) from exc
    reference = checked_reference(reference)
    if date > timezone.localdate() or date < project.start:
        raise ValidationFailed(
            _("Money from the co-financier is booked on the day it came in: %(d)s is %(why)s.")
            % {
                "d": date.isoformat(),
                "why": _("still to come")
                if date > timezone.localdate()
                else _("before the project started"),
            }
        )
    text = f"ESF utbetalning {project.code} {reference}"
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        earlier = _receipt_with(project, text)
        if earlier is not None:
            return _same_receipt_again(earlier, money, date, reference)
        books = esf_ledger(project)
        settles = min(money, max(books.receivable, ZERO))
        obj = _project_object(project)
        lines = [
            Line(chart.account("bank"), money, project=obj),
            Line(chart.account("accrued_income"), -settles, project=obj),
            Line(chart.account("conditional_grants"), -(money - settles), project=obj),
        ]
        voucher = post_voucher(
            series=VoucherSeries.INCOME,
            text=text,
            lines=[line for line in lines if line.amount],
            actor=actor,
            date=date,
            audit_payload={"project": project.pk, "reference": reference},
        )
        record_event(
            action="cofinancing.esf_payment_received",
            actor=actor,
            role=Role.TREASURER,
            object_type="project",
            object_ref=project.code,
            payload={
                "project": project.pk,
                "voucher": voucher.pk,
                "amount": money,
                "settles_receivable": settles,
                "advance": money - settles,
                "reference": reference,
            },
        )
    return voucher
