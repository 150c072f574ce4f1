"""What each user may read through the API: the same case scope as the services.

- ombud: only applications they submitted (and so attest), none once revoked;
- officer and decision-maker: applications in the funds they are assigned to;
- treasurer: cases with a decision in force on their way to payment, and after;
- auditor: every case (read only);
- administrator: no cases (funds, users and the chart of accounts are theirs).

A case outside the caller's scope answers 404, so references cannot be probed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounting.models import PaymentBatch
from core.roles import Role, roles_of
from fund.models import Application, NeedItem, OmbudStatus
from fund.states import State

#: States a treasurer works with.
PAYOUT_STATES = (State.APPROVED, State.PAYOUT_SCHEDULED, State.PAID, State.CLOSED)


def scope_filter(user: Any) -> Q | None:
    """The filter for the cases ``user`` may see; None when they see none."""
    roles = roles_of(user)
    if Role.AUDITOR in roles:
        return Q()
    scope: Q | None = None

    def add(q: Q) -> None:
        nonlocal scope
        scope = q if scope is None else scope | q

    ombud = getattr(user, "ombud", None) if Role.OMBUD in roles else None
    if ombud is not None:
        add(Q(ombud=ombud) & ~Q(ombud__status=OmbudStatus.REVOKED))
    if Role.OFFICER in roles or Role.DECISION_MAKER in roles:
        add(Q(fund__handlers=user))
    if Role.TREASURER in roles:
        add(Q(state__in=PAYOUT_STATES))
    return scope


def visible_applications(user: Any) -> QuerySet[Application]:
    scope = scope_filter(user)
    if scope is None:
        return Application.objects.none()
    return with_details(
        Application.objects.filter(pk__in=Application.objects.filter(scope).values("pk"))
    )


def with_details(queryset: QuerySet[Application]) -> QuerySet[Application]:
    """What the API shows of a case, in a fixed number of queries."""
    return (
        queryset.select_related("fund", "beneficiary", "ombud__organisation", "assigned_officer")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=NeedItem.objects.select_related("statutory_assessment").order_by(
                    "position"
                ),
            )
        )
        .order_by("-created_at", "-pk")
    )


def may_see_batches(user: Any) -> bool:
    roles = roles_of(user)
    return Role.TREASURER in roles or Role.AUDITOR in roles


def payment_batches() -> QuerySet[PaymentBatch]:
    return PaymentBatch.objects.select_related("created_by", "approved_by", "sent_by").order_by(
        "-created_at", "-pk"
    )
