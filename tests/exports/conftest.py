"""A small ledger over two fiscal years, booked through the accounting services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from accounting.ledger import Line, close_period, fiscal_year_for, post_voucher
from accounting.models import Dimension, DimensionObject, Period, Voucher
from fund.models import Fund
from tests.factories import FundFactory, UserFactory

QUIRKY_TEXT = 'Faktura "Glasögon" C:\\kvitton\\2026 åäö ÅÄÖ'


@dataclass
class Ledger:
    treasurer: User
    fund: Fund
    other_fund: Fund
    project: DimensionObject
    purpose: DimensionObject
    admin_cc: DimensionObject

    def book(self, date: str, text: str, *lines: Line, series: str = "A") -> Voucher:
        return post_voucher(
            series=series,
            text=text,
            lines=list(lines),
            actor=self.treasurer,
            date=dt.date.fromisoformat(date),
        )

    def close_year(self, year: int) -> None:
        fiscal_year_for(dt.date(year, 1, 1))
        for period in Period.objects.filter(start__year=year).order_by("start"):
            close_period(period, actor=self.treasurer)


def D(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture
def ledger(db: None) -> Ledger:
    treasurer = cast(User, UserFactory(roles=["treasurer"]))
    fund = cast(Fund, FundFactory(code="barn", name="Barnfonden", accounting_dimension="BARN"))
    other = cast(Fund, FundFactory(code="allm", name="Allmänt stöd", accounting_dimension="ALLM"))
    project = DimensionObject.objects.create(
        dimension=Dimension.objects.get(number=Dimension.PROJECT),
        code="ESF-2005-1",
        name="Equal-projekt",
    )
    cost_centre = Dimension.objects.get(number=Dimension.COST_CENTRE)
    world = Ledger(
        treasurer=treasurer,
        fund=fund,
        other_fund=other,
        project=project,
        purpose=DimensionObject.objects.get(dimension=cost_centre, code="100"),
        admin_cc=DimensionObject.objects.get(dimension=cost_centre, code="300"),
    )
    # 2025: gifts, a grant paid out, bank costs.
    world.book(
        "2025-02-03",
        "Gåvor februari",
        Line("1930", D("50000.00"), fund=fund),
        Line("3993", D("-50000.00"), fund=fund),
        series="B",
    )
    world.book(
        "2025-03-10",
        "Bidrag A-2025-000001",
        Line("6710", D("1234.56"), fund=fund, cost_centre=world.purpose),
        Line("1930", D("-1234.56"), fund=fund),
        series="C",
    )
    world.book(
        "2025-11-30",
        "Bankavgift",
        Line("6570", D("99.50"), cost_centre=world.admin_cc),
        Line("1930", D("-99.50")),
    )
    # 2026: an EU grant to the project, staff cost, a quirky text.
    world.book(
        "2026-01-15",
        "EU-bidrag ESF",
        Line("1930", D("200000.00"), project=project),
        Line("3981", D("-200000.00"), project=project),
        series="B",
    )
    world.book(
        "2026-02-28",
        "Löner februari projekt",
        Line("7010", D("30000.00"), project=project, cost_centre=world.purpose),
        Line("7510", D("9426.00"), project=project, cost_centre=world.purpose),
        Line("1930", D("-39426.00"), project=project),
    )
    world.book(
        "2026-03-05",
        QUIRKY_TEXT,
        Line("6110", D("0.01"), fund=other, cost_centre=world.admin_cc),
        Line("1930", D("-0.01"), fund=other),
    )
    return world


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English, whatever translations the project ships."""
    with translation.override("en"):
        yield
