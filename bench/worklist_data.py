"""Many applications fast (bulk inserts, no audit events) for the worklist's tests and bench.

The rows are realistic enough for the worklist: open states, waiting times spread over a
year, every fourth case unassigned, one or two need items each. They carry no personal data.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from fund.models import Application, Beneficiary, Fund, NeedItem, Ombud
from fund.states import State

OPEN_STATES = (
    State.SUBMITTED,
    State.AWAITING_OMBUD,
    State.OMBUD_VERIFIED,
    State.STATUTORY_CHECK,
    State.READY_FOR_DECISION,
    State.NEEDS_COMPLETION,
    State.APPROVED,
)
_serial = itertools.count(1)


def bulk_applications(
    fund: Fund,
    ombud: Ombud,
    count: int,
    *,
    officers: list[Any] = (),  # type: ignore[assignment]
    chunk: int = 5000,
    seed: int = 6,
) -> int:
    """Insert ``count`` applications in ``fund`` (and their people and items) in chunks."""
    rng = random.Random(seed)
    now = timezone.now()
    made = 0
    while made < count:
        size = min(chunk, count - made)
        tag = f"{next(_serial):03d}"
        people = Beneficiary.objects.bulk_create(
            Beneficiary(reference=f"B-X{tag}-{n:06d}") for n in range(size)
        )
        apps = Application.objects.bulk_create(
            Application(
                reference=f"A-X{tag}-{n:06d}",
                fund=fund,
                beneficiary=person,
                ombud=ombud,
                state=rng.choice(OPEN_STATES),
                state_changed_at=now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60)),
                assigned_officer=(
                    rng.choice(officers) if officers and rng.random() > 0.25 else None
                ),
            )
            for n, person in enumerate(people)
        )
        NeedItem.objects.bulk_create(
            NeedItem(  # type: ignore[misc]  # Decimal into a MoneyField
                application=app,
                position=position,
                category="glasses",
                requested_amount=Decimal(rng.randrange(100, 20000)),
            )
            for app in apps
            for position in range(1, rng.choice((1, 1, 2)) + 1)
        )
        made += size
    return made
