"""Figures for the dashboard, and bar charts drawn as SVG on the server (no JS, no CDN)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounting.commitments import available
from accounting.models import Commitment, CommitmentStatus
from audit.models import AuditEvent
from fund.models import Application, Fund
from fund.states import State

#: The most recent transition events read for the step durations.
STEP_EVENT_LIMIT = 20000


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: int
    width: float
    #: The list the bar counts (the worklist with its filter), or "" for none.
    href: str = ""


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    label_width: int = 230
    bar_area: int = 420
    row: int = 28

    @property
    def linked(self) -> bool:
        return any(bar.href for bar in self.bars)


def chart(rows: list[tuple[str, float, str]], links: list[str] | None = None) -> Chart:
    """Horizontal bars scaled to the largest value; each row has a label and a text value,
    and (``links``, in the same order) the list it counts."""
    top = max((value for _label, value, _text in rows), default=0) or 1
    c = Chart(bars=[], height=0)
    hrefs = links or [""] * len(rows)
    bars = [
        Bar(label, value, text, y=index * c.row, width=max(value / top * c.bar_area, 0), href=href)
        for index, ((label, value, text), href) in enumerate(zip(rows, hrefs, strict=True))
    ]
    return Chart(bars=bars, height=max(len(bars), 1) * c.row)


def worklist_link(**filters: Any) -> str:
    """The worklist filtered as given: the list a bar counts."""
    return f"{reverse('web:worklist')}?{urlencode(filters)}"


def applications_per_state(funds: QuerySet[Fund]) -> list[tuple[str, str, int]]:
    """Per state: its code, its label and the number of applications in it."""
    counts = dict(
        Application.objects.filter(fund__in=funds)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return [(value, str(label), counts.get(value, 0)) for value, label in State.choices]


@dataclass(frozen=True)
class FundUse:
    fund: Fund
    granted: Decimal  # committed this year (open or paid out)
    available: Decimal

    @property
    def share(self) -> float:
        total = self.granted + max(self.available, Decimal(0))
        return float(self.granted / total * 100) if total else 0.0


def budget_use(funds: QuerySet[Fund], year: int | None = None) -> list[FundUse]:
    """Per fund: what decisions granted this calendar year, against what is still free."""
    year = year or timezone.localdate().year
    granted = dict(
        Commitment.objects.filter(
            fund__in=funds,
            created_at__year=year,
            status__in=(CommitmentStatus.OPEN, CommitmentStatus.EXPENSED),
        )
        .values_list("fund")
        .annotate(total=Sum("amount"))
        .values_list("fund", "total")
    )
    return [
        FundUse(fund, granted.get(fund.pk) or Decimal(0), available(fund).amount) for fund in funds
    ]


def median_days_per_step(funds: QuerySet[Fund]) -> list[tuple[str, float]]:
    return [(label, days) for _state, label, days in median_days_per_state(funds)]


def median_days_per_state(funds: QuerySet[Fund]) -> list[tuple[str, str, float]]:
    """Median days a case stays in each state before its next step (recent transitions)."""
    codes = list(funds.values_list("code", flat=True))
    events = (
        AuditEvent.objects.filter(action__startswith="application.")
        .filter(Q(payload__fund__in=codes))
        .order_by("-sequence")
        .values_list("object_ref", "occurred_at", "payload")[:STEP_EVENT_LIMIT]
    )
    entered: dict[str, tuple[str, datetime]] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    for ref, at, payload in reversed(list(events)):
        if not isinstance(payload, dict) or "to" not in payload:
            continue
        previous = entered.get(ref)
        if previous is not None and previous[0] == payload.get("from"):
            durations[previous[0]].append((at - previous[1]).total_seconds() / 86400)
        entered[ref] = (str(payload["to"]), at)
    return [
        (value, str(label), round(statistics.median(durations[value]), 1))
        for value, label in State.choices
        if durations.get(value)
    ]


def dashboard_data(funds: QuerySet[Fund], *, link_worklist: bool = False) -> dict[str, Any]:
    """The figures and charts; with ``link_worklist`` (the funds are exactly the user's
    worklist's) each bar links to the worklist filtered to what it counts."""
    states = applications_per_state(funds)
    uses = budget_use(funds)
    steps = median_days_per_state(funds)

    def links(filters: list[dict[str, Any]]) -> list[str] | None:
        return [worklist_link(**f) for f in filters] if link_worklist else None

    return {
        "states_chart": chart(
            [(label, n, str(n)) for _state, label, n in states],
            links([{"state": state} for state, _label, _n in states]),
        ),
        "budget": uses,
        "budget_chart": chart(
            [(u.fund.name, u.share, f"{u.share:.0f} %") for u in uses],
            links([{"fund": u.fund.pk, "state": "all"} for u in uses]),
        ),
        "steps_chart": chart(
            [(label, days, f"{days:g}") for _state, label, days in steps],
            links([{"state": state} for state, _label, _days in steps]),
        ),
    }
