"""ESF payment claims (ansökan om utbetalning): what the project asked the co-financier for.

A claim covers the period from the day after the previous claim's end (the first: from the
project's start) to ``period_to``; it is submitted after that period has ended; the claims
together never ask for more than the costs entitle the project to up to the claim's period
end (``esf_entitlement``). A claim is never changed: a controller corrects a submitted claim
in the next one, so a correction is a later claim whose amount may be negative, as long as
the claims together stay at zero or above.

The report's "claimed" is the sum of the claims submitted on or before its end; it is not the
income booked (the ledger accrues income as the costs arise, claimed or not).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from audit.services import record_event
from cofinancing.esf_income import esf_entitlement
from cofinancing.models import EsfClaim, Project, validate_claim_reference
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.money import CURRENCY, parse_decimal, quantize

ZERO = Decimal("0.00")


def claims_submitted(project: Project, up_to: dt.date) -> list[EsfClaim]:
    """The project's claims submitted on or before ``up_to``, in number order."""
    return list(
        EsfClaim.objects.filter(project=project, submitted_on__lte=up_to).order_by("number")
    )


def claimed_to_date(project: Project) -> Decimal:
    total = EsfClaim.objects.filter(project=project).aggregate(t=Sum("amount"))["t"]
    return quantize(total or ZERO)


def record_esf_claim(
    project: Project,
    *,
    actor: Any,
    period_to: dt.date,
    amount: Any,
    submitted_on: dt.date,
    reference: str,
) -> EsfClaim:
    """Record a payment claim as submitted; the same claim again returns the one recorded."""
    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(_("Only a treasurer may record a claim to the co-financier."))
    return book_esf_claim(
        project,
        actor=actor,
        period_to=period_to,
        amount=amount,
        submitted_on=submitted_on,
        reference=reference,
    )


def book_esf_claim(
    project: Project,
    *,
    actor: Any,
    period_to: dt.date,
    amount: Any,
    submitted_on: dt.date,
    reference: str,
) -> EsfClaim:
    """The recording itself (callers check the role: the service above, the demo seed)."""
    money = _amount(amount)
    if not money:
        raise ValidationFailed(_("A claim of 0 kr asks for nothing; leave it out."))
    reference = _reference(reference)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        same = EsfClaim.objects.filter(project=project, reference=reference).first()
        if same is None:
            same = EsfClaim.objects.filter(
                project=project, period_to=period_to, period_to__lt=project.end
            ).first()
        if same is not None:
            return _same_claim_again(same, money, submitted_on, reference, period_to)
        previous = EsfClaim.objects.filter(project=project).order_by("-number").first()
        if previous is not None and previous.period_to == period_to == project.end:
            # The final claim is corrected by a later claim over the same, final period: no
            # later period exists to carry the correction.
            period_from = previous.period_from
        else:
            period_from = (
                project.start if previous is None else previous.period_to + dt.timedelta(1)
            )
        _check_period(project, previous, period_from, period_to)
        _check_submitted(previous, period_to, submitted_on)
        claimed = claimed_to_date(project) + money
        entitled = esf_entitlement(project, period_to)
        _check_cumulative(project, claimed, entitled, period_to)
        claim = EsfClaim.objects.create(  # type: ignore[misc]  # Money into a MoneyField
            project=project,
            number=1 if previous is None else previous.number + 1,
            period_from=period_from,
            period_to=period_to,
            amount=Money(money, CURRENCY),
            submitted_on=submitted_on,
            reference=reference,
            recorded_by=actor,
        )
        record_event(
            action="cofinancing.esf_claim_recorded",
            actor=actor,
            role=Role.TREASURER,
            object_type="project",
            object_ref=project.code,
            payload={
                "project": project.pk,
                "claim": claim.pk,
                "number": claim.number,
                "period_from": period_from.isoformat(),
                "period_to": period_to.isoformat(),
                "submitted_on": submitted_on.isoformat(),
                "amount": money,
                "claimed_to_date": claimed,
                "entitled": entitled,
                "reference": reference,
            },
        )
    return claim


def _amount(value: Any) -> Decimal:
    try:
        return quantize(parse_decimal(value, field=_("Amount claimed")))
    except ValidationError as exc:
        raise ValidationFailed(exc.messages) from exc


def _reference(value: str) -> str:
    reference = (value or "").strip().upper()
    try:
        validate_claim_reference(reference)
    except ValidationError:
        raise ValidationFailed(
            _(
                "The claim's reference must be a code (capital letters, digits, - . : and at "
                "least one digit, e.g. ESF-ANS-3), never a name."
            )
        ) from None
    return reference


def _same_claim_again(
    claim: EsfClaim, amount: Decimal, submitted_on: dt.date, reference: str, period_to: dt.date
) -> EsfClaim:
    if (claim.amount.amount, claim.submitted_on, claim.reference, claim.period_to) == (
        amount,
        submitted_on,
        reference,
        period_to,
    ):
        return claim
    raise ValidationFailed(
        _(
            "Claim %(n)s for %(f)s - %(t)s is already recorded (%(a)s, submitted on %(s)s, "
            "reference %(r)s); a recorded claim is not changed: correct it in the next claim."
        )
        % {
            "n": claim.number,
            "f": claim.period_from.isoformat(),
            "t": claim.period_to.isoformat(),
            "a": claim.amount.amount,
            "s": claim.submitted_on.isoformat(),
            "r": claim.reference,
        }
    )


def _check_period(
    project: Project, previous: EsfClaim | None, period_from: dt.date, period_to: dt.date
) -> None:
    if period_to < project.start or period_to > project.end:
        raise ValidationFailed(
            _("A claim up to %(t)s lies outside the project's period %(s)s - %(e)s.")
            % {"t": period_to.isoformat(), "s": project.start, "e": project.end}
        )
    if previous is not None and period_to < period_from:
        raise ValidationFailed(
            _(
                "The claim does not follow the previous one: claim %(n)s covers up to %(p)s, "
                "so the next claim covers from %(f)s to a later date than %(t)s."
            )
            % {
                "n": previous.number,
                "p": previous.period_to.isoformat(),
                "f": period_from.isoformat(),
                "t": period_to.isoformat(),
            }
        )


def _check_submitted(previous: EsfClaim | None, period_to: dt.date, submitted_on: dt.date) -> None:
    if submitted_on <= period_to:
        raise ValidationFailed(
            _(
                "A claim submitted on %(s)s cannot cover costs up to %(t)s: it is submitted "
                "after %(t)s, once the period has ended."
            )
            % {"s": submitted_on.isoformat(), "t": period_to.isoformat()}
        )
    if submitted_on > timezone.localdate():
        raise ValidationFailed(
            _("A claim is recorded once submitted; %(s)s is in the future.")
            % {"s": submitted_on.isoformat()}
        )
    if previous is not None and submitted_on < previous.submitted_on:
        raise ValidationFailed(
            _("Claim %(n)s was submitted on %(p)s; the next one cannot be submitted before it.")
            % {"n": previous.number, "p": previous.submitted_on.isoformat()}
        )


def _check_cumulative(
    project: Project, claimed: Decimal, entitled: Decimal, period_to: dt.date
) -> None:
    if claimed > entitled:
        raise ValidationFailed(
            _(
                "The claims of project %(p)s would add up to %(c)s, more than the %(e)s its "
                "eligible costs up to %(t)s entitle it to."
            )
            % {"p": project.code, "c": claimed, "e": entitled, "t": period_to.isoformat()}
        )
    if claimed < 0:
        raise ValidationFailed(
            _("The claims of project %(p)s would add up to %(c)s, below zero.")
            % {"p": project.code, "c": claimed}
        )
