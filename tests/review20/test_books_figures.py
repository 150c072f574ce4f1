"""Review of #20: the books through the API tell the SIE file's story. The trial balance is
balanced and its figures are the SIE export's own (#IB/#UB/#RES, read from the file); a fund's
balance moves once per paid grant however often the bank's answer is uploaded; the voucher
list carries no personal value."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounting.exports.sie import is_balance_account, write_sie
from accounting.models import PaymentOrder
from tests.accounting.bank_files import camt054, pain002
from tests.review20.helpers import exported_batch, upload

pytestmark = pytest.mark.django_db

PERSON = "Hemlig Skyddadsson"
SIE_BALANCE = re.compile(r"^#(IB|UB|RES) 0 (\d{4}) (-?\d+(?:\.\d+)?)$")


def _sie_figures(year: int) -> dict[str, dict[str, Decimal]]:
    out = io.BytesIO()
    write_sie(out, year=year)
    figures: dict[str, dict[str, Decimal]] = {"IB": {}, "UB": {}, "RES": {}}
    for line in out.getvalue().decode("cp437").splitlines():
        match = SIE_BALANCE.match(line.strip())
        if match:
            figures[match.group(1)][match.group(2)] = Decimal(match.group(3))
    return figures


def _money(row: dict[str, Any], key: str) -> Decimal:
    assert row[key]["currency"] == "SEK"
    return Decimal(row[key]["amount"])


def _fund_balance(client: Any, code: str) -> Decimal:
    funds = client.get("/api/v1/books/funds/").json()["results"]
    return _money(next(f for f in funds if f["code"] == code), "balance")


def test_the_trial_balance_to_today_is_balanced_and_is_the_sie_files_figures(world, as_role):
    world.to_paid(world.new_application("1500"))
    world.to_approved(world.new_application("900"))  # decided, not paid: a liability
    today = timezone.localdate()

    report = (
        as_role("auditor")
        .get("/api/v1/books/trial-balance/", {"date_to": today.isoformat()})
        .json()
    )
    sie = _sie_figures(report["year"])

    assert sie["UB"]["1930"] == Decimal("998500.00")  # the file was read: the bank after 1 500
    assert report["balanced"] is True
    assert report["total_debit"] == report["total_credit"]
    for row in report["rows"]:
        account = row["account"]
        assert _money(row, "opening") == sie["IB"].get(account, Decimal(0)), account
        closing = sie["UB"] if is_balance_account(account) else sie["RES"]
        assert _money(row, "closing") == closing.get(account, Decimal(0)), account
        moved = _money(row, "debit") - _money(row, "credit")
        assert _money(row, "opening") + moved == _money(row, "closing"), account
    listed = {row["account"] for row in report["rows"]}
    nonzero = {a for part in sie.values() for a, v in part.items() if v}
    assert nonzero <= listed


def test_the_funds_balance_moves_once_per_paid_grant_whatever_the_bank_repeats(world, as_role):
    treasurer = as_role("treasurer")
    before = _fund_balance(treasurer, world.fund.code)
    _app, batch = exported_batch(world, "700")
    (order,) = PaymentOrder.objects.filter(batch=batch)
    notification = camt054([(order, timezone.localdate().isoformat(), "")])

    assert upload(treasurer, notification).json()["paid"] == 1
    assert upload(treasurer, notification).json()["paid"] == 0
    again = upload(treasurer, pain002(batch, [(order, ("ACSC", ""))])).json()

    assert [e["result"] for e in again["entries"]] == ["unchanged"]
    assert _fund_balance(treasurer, world.fund.code) == before - Decimal("700.00")


def test_the_voucher_list_carries_no_personal_value(world, as_role):
    app = world.to_paid(world.new_application("1500", name=PERSON))

    response = as_role("auditor").get("/api/v1/books/vouchers/", {"page_size": 100})

    assert response.status_code == 200
    text = json.dumps(response.json(), ensure_ascii=False)
    assert app.reference in text  # the case is named by its reference …
    assert "Skyddadsson" not in text  # … never by the person
    assert "behov" not in text  # nor by what they needed


@pytest.mark.parametrize("role", ["officer", "decider", "ombud", "admin"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/books/accounts/",
        "/api/v1/books/vouchers/",
        "/api/v1/books/trial-balance/",
        "/api/v1/books/funds/",
    ],
)
def test_only_treasurers_and_auditors_read_the_books(world, as_role, role, url):
    response = as_role(role).get(url)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
