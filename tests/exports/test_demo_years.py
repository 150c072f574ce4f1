"""Review 16b: the demo's fiscal years after ``seed_demo``."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounting.models import FiscalYear, Period, YearEndClosing

pytestmark = pytest.mark.django_db


def test_the_demo_leaves_the_current_year_its_only_open_one() -> None:
    """demo/seed.py: "closed too, so that the demo's only open year is the current one". A
    year before the current one with open periods takes vouchers registered today - what the
    issue found for 2005 and 2006 - and blocks the current year's year-end ("years are closed
    in order")."""
    from demo.seed import seed

    seed(lambda _line: None)
    current = timezone.localdate().year

    open_years = sorted(
        {
            p.fiscal_year.start.year
            for p in Period.objects.filter(closed_at__isnull=True).select_related("fiscal_year")
        }
    )
    unlocked = sorted(
        y.start.year
        for y in FiscalYear.objects.all()
        if not YearEndClosing.objects.filter(fiscal_year=y, locked_at__isnull=False).exists()
    )
    assert (open_years, unlocked) == ([current], [current])
