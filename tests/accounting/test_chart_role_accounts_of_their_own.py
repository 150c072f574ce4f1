"""Chart roles keep accounts of their own, and the first record of the mapping is the one
the books use (issue #16, third review)."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import override_settings

from accounting import chart
from accounting.ledger import Line, post_voucher
from accounting.models import Account, AccountType, ChartRoleMapping, VoucherSeries
from core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.mark.parametrize(
    ("role", "other_roles_account"),
    [("restricted_funds", "2067"), ("grant_state", "3987")],
)
def test_a_role_is_not_remapped_onto_an_account_another_role_books_on(
    world, role: str, other_roles_account: str
) -> None:  # type: ignore[no-untyped-def]
    """Two roles on one account: restricted gifts read as balanserat kapital (and the
    year-end transfer debits and credits 2067), state grants read as municipal ones."""
    with (
        override_settings(LEDGER_ACCOUNTS={role: other_roles_account}),
        pytest.raises(ValidationFailed),
    ):
        chart.apply_mapping(actor=world.treasurer)
    assert not ChartRoleMapping.objects.filter(role=role).exists()


def test_the_first_record_of_a_ledger_with_postings_is_the_mapping_it_booked_on(
    world,
) -> None:  # type: ignore[no-untyped-def]
    """An installation mapped accrued_income to 1791 because its own 1790 books something
    else. Before 0016 the services booked on 1791; after it the books must not claim 1790."""
    Account.objects.create(number="1791", name="Upplupna ESF (egen)", type=AccountType.ASSET)
    # The foundation's own use of 1790 (not the role's), and the role's ESF accrual on 1791.
    post_voucher(
        series=VoucherSeries.MANUAL,
        text="Egen 1790",
        lines=[Line("1790", D("100")), Line("1930", D("-100"))],
        actor=world.treasurer,
    )
    post_voucher(
        series=VoucherSeries.MANUAL,
        text="Upplupen ESF",
        lines=[Line("1791", D("50")), Line("3981", D("-50"))],
        actor=world.treasurer,
    )
    ChartRoleMapping.objects.all().delete()
    migration = importlib.import_module("accounting.migrations.0016_chart_role_mapping")
    with override_settings(LEDGER_ACCOUNTS={"accrued_income": "1791"}):
        migration.record_the_settings_mapping(apps, None)
        assert chart.recorded_mapping()["accrued_income"] == "1791"
        assert chart.pending_changes() == []
        # Nor may a treasurer be told to move the foundation's own 1790 onto 1791.
        assert chart.apply_mapping(actor=world.treasurer) == []
