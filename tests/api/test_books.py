"""The books through the API (issue #20): read only, for treasurers and auditors, with money
as ``{"amount", "currency"}`` objects, and the same figures as the SIE export and the fund
report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.exports.sie import balances
from accounting.ledger import record_income
from accounting.models import FiscalYear, PaymentOrder, Posting, Voucher, VoucherSeries
from api.payouts_serializers import PaymentOrderSerializer
from tests.factories import FundFactory

pytestmark = pytest.mark.django_db


def sek(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "SEK"}


@pytest.fixture
def paid(world: Any) -> Any:
    """A case of 1 500 kr paid through the services (the world's fund holds 1 000 000 kr)."""
    return world.to_paid(world.new_application("1500"))


@pytest.fixture
def year(paid: Any) -> FiscalYear:
    return FiscalYear.objects.get(start__lte=timezone.localdate(), end__gte=timezone.localdate())


def rows_by_account(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["account"]: row for row in report["rows"]}


def test_the_trial_balance_is_balanced_and_the_fund_moved_by_the_paid_amount_once(
    world, as_role, paid, year
):
    response = as_role("auditor").get(f"/api/v1/books/trial-balance/?year={year.start.year}")

    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["year"] == year.start.year
    assert report["as_of"] == year.end.isoformat()
    assert report["balanced"] is True
    assert report["total_debit"] == report["total_credit"]
    rows = rows_by_account(report)
    # The bank: the world's income in, the payout out, once.
    assert rows["1930"]["debit"] == sek("1000000.00")
    assert rows["1930"]["credit"] == sek("1500.00")
    assert rows["1930"]["closing"] == sek("998500.00")
    # The grant's cost, booked once (when decided), and its liability settled by the payout.
    assert rows["6710"]["closing"] == sek("1500.00")
    assert rows["2890"]["debit"] == rows["2890"]["credit"] == sek("1500.00")
    assert rows["2890"]["closing"] == sek("0.00")
    for row in report["rows"]:
        opening, closing = Decimal(row["opening"]["amount"]), Decimal(row["closing"]["amount"])
        moved = Decimal(row["debit"]["amount"]) - Decimal(row["credit"]["amount"])
        assert opening + moved == closing, row["account"]
    funds = as_role("treasurer").get(f"/api/v1/books/funds/?year={year.start.year}").json()
    allmant = next(f for f in funds["results"] if f["code"] == world.fund.code)
    assert allmant["balance"] == sek("998500.00")
    assert allmant["paid"] == sek("1500.00")
    assert allmant["expensed"] == sek("1500.00")
    assert allmant["open_commitments"] == sek("0.00")
    assert allmant["available"] == sek("998500.00")


def test_the_trial_balance_shows_the_sie_exports_opening_and_closing_balances(
    world, as_role, paid, year
):
    """The same figures as #IB/#UB/#RES, by the same function: there is one computation."""
    opening, closing, result = balances(year)
    rows = rows_by_account(as_role("treasurer").get("/api/v1/books/trial-balance/").json())

    for number, row in rows.items():
        expected = closing if number[0] in "12" else result
        assert Decimal(row["opening"]["amount"]) == opening.get(number, Decimal(0))
        assert Decimal(row["closing"]["amount"]) == expected.get(number, Decimal(0))
    # Every balance is shown; an account whose postings cancel out is shown with its movements.
    assert set(opening) | set(closing) | set(result) <= set(rows)
    assert rows["2890"]["closing"] == sek("0.00") and "2890" not in closing


def test_the_trial_balance_to_a_date_leaves_later_vouchers_out(world, as_role, paid, year):
    record_income(
        world.fund,
        "200",
        kind="donation",
        actor=world.treasurer,
        reference="EARLY-1",
        date=year.start,
    )
    bank_then = sum(
        (
            p.amount.amount
            for p in Posting.objects.filter(account__number="1930", voucher__date=year.start)
        ),
        Decimal(0),
    )

    report = (
        as_role("auditor")
        .get(
            f"/api/v1/books/trial-balance/?year={year.start.year}&date_to={year.start.isoformat()}"
        )
        .json()
    )

    assert report["as_of"] == year.start.isoformat()
    assert Decimal(rows_by_account(report)["1930"]["closing"]["amount"]) == bank_then
    assert report["balanced"] is True


def test_vouchers_filtered_by_series_fund_and_date_return_exactly_the_expected_ones(
    world, as_role, paid, year
):
    other = FundFactory(code="bostad", name="Bostadsfonden")
    record_income(other, "5000", kind="donation", actor=world.treasurer, reference="OTHER-1")
    client = as_role("auditor")

    def labels(query: str) -> list[str]:
        response = client.get(f"/api/v1/books/vouchers/?{query}")
        assert response.status_code == 200, response.json()
        return [f"{v['series']}{v['number']}" for v in response.json()["results"]]

    payouts = list(Voucher.objects.filter(series=VoucherSeries.PAYOUT))
    assert labels("series=C") == [f"C{v.number}" for v in payouts] and len(payouts) == 1
    every = labels(f"year={year.start.year}")
    assert len(every) == Voucher.objects.count()
    assert labels("fund=bostad") == ["B2"]
    assert "B2" not in labels("fund=allmant") and "C1" in labels("fund=allmant")
    today = timezone.localdate().isoformat()
    assert labels(f"date_from={today}&date_to={today}") == every
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert labels(f"date_from={tomorrow}") == []
    assert labels("series=C&fund=bostad") == []


def test_a_voucher_shows_its_postings_as_money_with_their_dimensions(world, as_role, paid):
    body = as_role("treasurer").get("/api/v1/books/vouchers/?series=C").json()

    (voucher,) = body["results"]
    assert set(voucher) == {
        "id",
        "series",
        "number",
        "date",
        "text",
        "fiscal_year",
        "reverses",
        "created_at",
        "postings",
    }
    assert voucher["reverses"] is None
    assert voucher["fiscal_year"] == timezone.localdate().year
    assert paid.reference in voucher["text"]
    by_account = {p["account"]: p for p in voucher["postings"]}
    assert by_account["1930"]["amount"] == sek("-1500.00")
    assert by_account["2890"]["amount"] == sek("1500.00")
    assert {p["fund"] for p in voucher["postings"]} == {world.fund.code}
    assert sum(Decimal(p["amount"]["amount"]) for p in voucher["postings"]) == 0


def test_the_voucher_list_costs_the_same_queries_with_more_vouchers(world, as_role, paid):
    client = as_role("auditor")
    client.get("/api/v1/books/accounts/")  # the token's first use is recorded once

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/books/vouchers/").status_code == 200
        return len(captured)

    before = count()
    world.to_paid(world.new_application("700", "300"))
    for n in range(3):
        record_income(world.fund, "10", kind="donation", actor=world.treasurer, reference=f"R-{n}")
    assert count() == before


def test_the_chart_of_accounts_is_listed_by_number(as_role, world):
    body = as_role("treasurer").get("/api/v1/books/accounts/?page_size=100").json()

    numbers = [a["number"] for a in body["results"]]
    assert numbers == sorted(numbers) and "1930" in numbers
    bank = next(a for a in body["results"] if a["number"] == "1930")
    assert bank["type"] == "asset" and bank["active"] is True and bank["name"]
    assert set(body) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/books/vouchers/?year=twenty", "year"),
        ("/api/v1/books/vouchers/?year=1901", "year"),
        ("/api/v1/books/vouchers/?series=Z", "series"),
        ("/api/v1/books/vouchers/?fund=nosuchfund", "fund"),
        ("/api/v1/books/vouchers/?fund=not%20a%20code", "fund"),
        ("/api/v1/books/vouchers/?project=NOPE", "project"),
        ("/api/v1/books/vouchers/?date_from=2026-13-01", "date_from"),
        ("/api/v1/books/vouchers/?date_from=2026-05-02&date_to=2026-05-01", "date_to"),
        ("/api/v1/books/trial-balance/?year=1901", "year"),
        ("/api/v1/books/trial-balance/?date_to=1999-12-31", "date_to"),
        ("/api/v1/books/trial-balance/?date_to=yesterday", "date_to"),
        ("/api/v1/books/funds/?year=0", "year"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_parameter(world, as_role, paid, url, parameter):
    response = as_role("auditor").get(url)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert parameter in body["fields"], body


def test_money_objects_in_the_application_decision_and_batch_answers(world, as_role, paid):
    client = as_role("auditor")

    case = client.get(f"/api/v1/applications/{paid.reference}/").json()
    decisions = client.get(f"/api/v1/applications/{paid.reference}/decisions/").json()
    decisions = decisions["results"] if isinstance(decisions, dict) else decisions
    batches = client.get("/api/v1/payment-batches/").json()["results"]

    assert case["total_requested"] == case["total_approved"] == sek("1500.00")
    assert case["items"][0]["requested_amount"] == sek("1500.00")
    assert case["items"][0]["approved_amount"] == sek("1500.00")
    assert case["items"][0]["statutory_assessment"]["grantable_amount"] == sek("1500.00")
    assert decisions[0]["total_approved"] == sek("1500.00")
    assert decisions[0]["items"][0]["amount"] == sek("1500.00")
    assert batches[0]["total"] == sek("1500.00")
    order = PaymentOrder.objects.get(application=paid)
    assert PaymentOrderSerializer(order).data["amount"] == sek("1500.00")


def test_an_amount_not_yet_decided_is_null_not_a_money_object(world, as_role):
    case = world.new_application("800")

    body = as_role("ombud").get(f"/api/v1/applications/{case.reference}/").json()

    assert body["total_approved"] is None
    assert body["items"][0]["approved_amount"] is None
    assert body["total_requested"] == sek("800.00")
