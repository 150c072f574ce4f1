"""Closing a period with four eyes: one treasurer proposes, another approves and closes.

The close itself is :func:`accounting.ledger.close_period` (earlier periods first, audited as
``ledger.period_closed``); these steps add the proposal and its approval, each audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.ledger import close_period, require_treasurer
from accounting.models import Period, PeriodCloseRequest
from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role


def _label(period: Period) -> str:
    return f"{period.start:%Y-%m}"


def propose_period_close(period: Period, *, actor: Any) -> PeriodCloseRequest:
    """Ask a second treasurer to close ``period``; the earlier ones must be closed or asked."""
    require_treasurer(actor=actor, message=_("Only a treasurer may close a period."))
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if period.is_closed:
            raise ValidationFailed(
                _("The period %(period)s is already closed.") % {"period": _label(period)}
            )
        pending = PeriodCloseRequest.objects.filter(period=period, approved_at__isnull=True)
        if pending.exists():
            raise ValidationFailed(
                _("Closing %(period)s is already proposed and awaits a second treasurer.")
                % {"period": _label(period)}
            )
        earlier_open = Period.objects.filter(start__lt=period.start, closed_at__isnull=True)
        asked = PeriodCloseRequest.objects.filter(approved_at__isnull=True).values("period_id")
        unasked = earlier_open.exclude(pk__in=asked).order_by("start")
        first = unasked.first()
        if first is not None:
            raise ValidationFailed(
                _("Close the earlier periods first: %(period)s is still open.")
                % {"period": _label(first)}
            )
        request = PeriodCloseRequest.objects.create(
            period=period, proposed_by=actor, proposed_at=timezone.now()
        )
        record_event(
            action="ledger.period_close_proposed",
            actor=actor,
            role=Role.TREASURER,
            object_type="period",
            object_ref=_label(period),
            payload={"period": period.pk, "request": request.pk},
        )
    return request


def approve_period_close(request: PeriodCloseRequest, *, actor: Any) -> Period:
    """A treasurer who did not propose it closes the period."""
    require_treasurer(actor=actor, message=_("Only a treasurer may close a period."))
    with transaction.atomic():
        request = (
            PeriodCloseRequest.objects.select_for_update()
            .select_related("period")
            .get(pk=request.pk)
        )
        period = request.period
        if request.proposed_by_id == actor.pk:
            raise PermissionDenied(
                _("You proposed closing %(period)s; a second treasurer must approve it.")
                % {"period": _label(period)}
            )
        if request.approved_at is not None:
            return period
        period = close_period(period, actor=actor)
        request.approved_by = actor
        request.approved_at = timezone.now()
        request.save(update_fields=["approved_by", "approved_at"])
        record_event(
            action="ledger.period_close_approved",
            actor=actor,
            role=Role.TREASURER,
            object_type="period",
            object_ref=_label(period),
            payload={
                "period": period.pk,
                "request": request.pk,
                "proposed_by": request.proposed_by_id,
            },
        )
    return period
