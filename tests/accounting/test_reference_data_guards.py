"""Issue #13, defect 9: the reference data money depends on cannot be rewritten without a trace.

Once used, an account's number and type, a dimension object's dimension, code and fund, and a
fund's accounting object are read-only in the admin and refused by the database (SQLite and
PostgreSQL); every change that is still allowed is an audit event.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.test import Client

from accounting import ledger
from accounting.models import Account, Dimension, DimensionObject
from audit.models import AuditEvent
from fund.models import Fund
from tests.factories import FundFactory, UserFactory
from tests.signin import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("ledger")]


def _superuser_client() -> Client:
    user = cast(User, UserFactory(roles=["administrator"]))
    user.is_staff = user.is_superuser = True
    user.save()
    return sign_in(Client(), user)


def _balances(*funds: Fund) -> list[Decimal]:
    return [ledger.fund_balance(fund).amount for fund in funds]


def _raw_update(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_used_accounts_number_and_type_are_read_only_in_the_admin_and_refused_by_the_database(
    world,
):
    gifts = Account.objects.get(number="3993")
    other = cast(Fund, FundFactory(code="annan"))
    before = _balances(world.fund, other)
    client = _superuser_client()

    response = client.post(
        f"/admin/accounting/account/{gifts.pk}/change/",
        {"number": "1931", "name": gifts.name, "type": "asset", "active": "on"},
    )

    assert response.status_code in (200, 302)
    gifts.refresh_from_db()
    assert (gifts.number, gifts.type) == ("3993", "income")
    page = client.get(f"/admin/accounting/account/{gifts.pk}/change/").content.decode()
    assert 'name="number"' not in page and 'name="type"' not in page
    assert 'name="name"' in page and 'name="active"' in page
    for column, value in (("number", "1931"), ("type", "asset")):
        with pytest.raises(IntegrityError, match="has postings"):
            _raw_update(
                f"UPDATE accounting_account SET {column} = %s WHERE id = %s",  # noqa: S608
                [value, gifts.pk],
            )
    with pytest.raises(IntegrityError, match="has postings"), transaction.atomic():
        Account.objects.filter(pk=gifts.pk).update(type="asset")
    assert _balances(world.fund, other) == before


def test_a_used_dimension_objects_fund_and_code_are_read_only_and_nothing_moves_between_funds(
    world,
):
    obj = DimensionObject.objects.get(fund=world.fund)
    other = cast(Fund, FundFactory(code="annan"))
    before = _balances(world.fund, other)
    assert before == [Decimal("1000000.00"), Decimal("0.00")]
    client = _superuser_client()

    response = client.post(
        f"/admin/accounting/dimensionobject/{obj.pk}/change/",
        {"dimension": obj.dimension_id, "code": "ANNAN", "name": obj.name, "fund": other.pk},
    )

    assert response.status_code in (200, 302)
    obj.refresh_from_db()
    assert (obj.code, obj.fund_id) == (world.fund.accounting_dimension, world.fund.pk)
    assert _balances(world.fund, other) == before
    project_dimension = Dimension.objects.get(number=Dimension.PROJECT)
    for column, value in (
        ("fund_id", other.pk),
        ("code", "ANNAN"),
        ("dimension_id", project_dimension.pk),
    ):
        with pytest.raises(IntegrityError, match="has postings"):
            _raw_update(
                f"UPDATE accounting_dimensionobject SET {column} = %s WHERE id = %s",  # noqa: S608
                [value, obj.pk],
            )
    with pytest.raises(IntegrityError, match="has postings"):
        _raw_update("UPDATE accounting_dimensionobject SET fund_id = NULL WHERE id = %s", [obj.pk])
    with pytest.raises(IntegrityError, match="has postings"):
        _raw_update("UPDATE accounting_dimension SET number = 21 WHERE id = %s", [obj.dimension_id])
    assert _balances(world.fund, other) == before


def test_a_funds_accounting_object_is_fixed_once_its_object_has_postings(world):
    client = _superuser_client()
    page = client.get(f"/admin/fund/fund/{world.fund.pk}/change/").content.decode()
    assert 'name="accounting_dimension"' not in page
    with pytest.raises(IntegrityError, match="has postings"), transaction.atomic():
        Fund.objects.filter(pk=world.fund.pk).update(accounting_dimension="ANNAN")
    unused = cast(Fund, FundFactory(code="ny"))
    page = client.get(f"/admin/fund/fund/{unused.pk}/change/").content.decode()
    assert 'name="accounting_dimension"' in page
    Fund.objects.filter(pk=unused.pk).update(accounting_dimension="NY2")


def test_unused_reference_data_may_change_and_every_change_is_audited(world):
    client = _superuser_client()
    spare = Account.objects.create(number="7999", name="Reserv", type="expense")
    created = AuditEvent.objects.get(action="ledger.account_created")
    assert created.object_ref == "7999"
    assert created.payload["new"] == {"number": "7999", "type": "expense", "active": True}

    response = client.post(
        f"/admin/accounting/account/{spare.pk}/change/",
        {"number": "7998", "name": "Övrigt", "type": "income"},
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="ledger.account_changed")
    assert event.payload == {
        "id": spare.pk,
        "fields": ["active", "name", "number", "type"],
        "old": {"active": True, "number": "7999", "type": "expense"},
        "new": {"active": False, "number": "7998", "type": "income"},
    }
    assert "Reserv" not in str(event.payload) and "Övrigt" not in str(event.payload)
    # A used account's name stays editable, and is audited by field name only.
    gifts = Account.objects.get(number="3993")
    response = client.post(
        f"/admin/accounting/account/{gifts.pk}/change/",
        {"name": "Gåvor från allmänheten", "active": "on"},
    )
    assert response.status_code == 302
    renamed = AuditEvent.objects.filter(action="ledger.account_changed").latest("sequence")
    assert renamed.payload["fields"] == ["name"] and renamed.object_ref == "3993"

    unused = cast(Fund, FundFactory(code="ny"))
    obj = ledger.fund_object(unused)
    made = AuditEvent.objects.get(action="ledger.dimensionobject_created", object_ref=obj.code)
    assert made.payload["new"] == {"dimension": Dimension.FUND, "code": obj.code, "fund": "ny"}
    obj.code = "NY2"
    obj.save()
    moved = AuditEvent.objects.get(action="ledger.dimensionobject_changed")
    assert moved.payload["old"]["code"] == unused.accounting_dimension
    assert moved.payload["new"]["code"] == "NY2"


def test_periods_with_vouchers_keep_their_dates_and_a_closed_period_is_never_deleted(world):
    import datetime as dt

    from accounting.models import Period

    year = ledger.fiscal_year_for(dt.date(2021, 1, 1))
    january = Period.objects.get(start=dt.date(2021, 1, 1))
    ledger.record_income(
        world.fund,
        "10",
        kind="donation",
        actor=world.treasurer,
        reference="P-1",
        date=dt.date(2021, 1, 10),
    )
    with pytest.raises(IntegrityError, match="has vouchers"), transaction.atomic():
        Period.objects.filter(pk=january.pk).update(start=dt.date(2021, 1, 11))
    with pytest.raises(IntegrityError, match="has vouchers"), transaction.atomic():
        type(year).objects.filter(pk=year.pk).update(end=dt.date(2021, 6, 30))
    with pytest.raises(IntegrityError, match="cannot be deleted"), transaction.atomic():
        Period.objects.filter(pk=january.pk).delete()
    ledger.close_period(january, actor=world.treasurer)
    ledger.close_period(Period.objects.get(start=dt.date(2021, 2, 1)), actor=world.treasurer)
    with pytest.raises(IntegrityError, match="cannot be deleted"), transaction.atomic():
        _raw_update("DELETE FROM accounting_period WHERE start = %s", [dt.date(2021, 2, 1)])


def test_a_funds_restricted_account_is_fixed_once_it_holds_the_funds_restricted_funds(world):
    """Review of issue #16: once a posting on the fund's restricted account carries the fund's
    object, changing the account would strand that balance (the next year's opening reads the
    new account). Postings elsewhere with the fund's object leave it editable."""
    client = _superuser_client()
    page = client.get(f"/admin/fund/fund/{world.fund.pk}/change/").content.decode()
    assert 'name="restricted_funds_account"' in page
    ledger.record_income(
        world.fund, "5000", kind="restricted_capital", actor=world.treasurer, reference="IB-1"
    )

    page = client.get(f"/admin/fund/fund/{world.fund.pk}/change/").content.decode()
    assert 'name="restricted_funds_account"' not in page
    with pytest.raises(IntegrityError, match="restricted funds account"), transaction.atomic():
        Fund.objects.filter(pk=world.fund.pk).update(restricted_funds_account="2071")
    world.fund.refresh_from_db()
    assert world.fund.restricted_funds_account == "2070"
    Fund.objects.filter(pk=world.fund.pk).update(name="Allmänt stöd (nytt namn)")
    unused = cast(Fund, FundFactory(code="ny"))
    Fund.objects.filter(pk=unused.pk).update(restricted_funds_account="2072")


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("1930", "not an equity account"),
        ("2067", "retained_capital"),
        ("2069", "result_of_year"),
        ("2099", "not an equity account"),
    ],
)
def test_a_funds_restricted_account_must_be_an_equity_account_of_the_chart_of_its_own(
    world, number, problem
):
    """Review of issue #16: a bank account or balanserat kapital as a fund's restricted
    account would mix donors' restricted money with other money."""
    from django.core.exceptions import ValidationError

    fund = cast(Fund, FundFactory(code="ny"))
    fund.restricted_funds_account = number
    with pytest.raises(ValidationError, match=problem) as refused:
        fund.clean_fields()
    assert list(refused.value.message_dict) == ["restricted_funds_account"]
    fund.clean_fields(exclude={"restricted_funds_account"})
    fund.restricted_funds_account = "2071"
    fund.clean_fields()
