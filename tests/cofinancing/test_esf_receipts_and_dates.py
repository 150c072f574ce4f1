"""Co-financing money and income on honest dates, once per reference (issue #16, third review;
ESF-EQ-2005, 2005-09-01 - 2007-12-31; see tests/web/test_cofinancing_page.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from cofinancing.demo import seed_cofinancing
from cofinancing.esf_income import accrue_esf_income, receive_esf_payment
from cofinancing.esf_ledger import esf_ledger
from core.exceptions import ValidationFailed
from tests.fixtures import World

pytestmark = pytest.mark.django_db


def test_one_esf_payment_is_booked_once_under_its_reference(world: World) -> None:
    project = seed_cofinancing()
    before = esf_ledger(project).received
    receive_esf_payment(
        project, actor=world.treasurer, amount="1000", date=dt.date(2007, 1, 15), reference="P-9"
    )
    # The treasurer submits the form again (a reload, a double click): 1 000 came in once.
    with contextlib.suppress(ValidationFailed):
        receive_esf_payment(
            project,
            actor=world.treasurer,
            amount="1000",
            date=dt.date(2007, 1, 15),
            reference="P-9",
        )
    assert esf_ledger(project).received == before + D("1000.00")


def test_esf_money_is_received_on_or_before_today(world: World) -> None:
    project = seed_cofinancing()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed):
        receive_esf_payment(
            project, actor=world.treasurer, amount="1000", date=tomorrow, reference="P-10"
        )


def test_esf_income_is_not_accrued_to_a_date_in_the_future(world: World) -> None:
    project = seed_cofinancing()
    far = dt.date(2099, 1, 1)
    try:
        voucher = accrue_esf_income(project, actor=world.treasurer, up_to=far)
    except ValidationFailed:
        return
    # Clipped instead of refused is acceptable: then the voucher is dated within the project.
    assert voucher is not None and voucher.date <= project.end


def test_a_claim_of_nothing_is_not_recorded(world: World) -> None:
    from cofinancing.esf_claims import record_esf_claim

    project = seed_cofinancing()
    with pytest.raises(ValidationFailed, match="asks for nothing"):
        record_esf_claim(
            project,
            actor=world.treasurer,
            period_to=dt.date(2007, 6, 30),
            amount="0.00",
            submitted_on=dt.date(2007, 8, 1),
            reference="ESF-ANS-9",
        )
