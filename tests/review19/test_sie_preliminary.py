"""Review of #19: SIE 4 of an open year (item 5) neither double-counts nor leaves out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting.exports.sie import is_balance_account
from tests.accounting.test_sie_open_year import AS_OF, _book, _export, open_year, treasurer

pytestmark = pytest.mark.django_db

__all__ = ["open_year", "treasurer"]  # fixtures used below


def test_the_preliminary_files_balances_follow_from_its_vouchers(
    open_year: None, treasurer: Any, tmp_path: Path
) -> None:
    _book(treasurer, "2026-01-01", "12.00")  # the year's first day
    parsed = _export(tmp_path, treasurer, as_of=AS_OF)
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for voucher in parsed.vouchers:
        assert voucher.date <= AS_OF
        for trans in voucher.trans:
            moved[trans.account] += trans.amount
    for account in set(parsed.ib) | set(parsed.ub) | set(moved):
        if is_balance_account(account):
            expected = parsed.ib.get(account, Decimal(0)) + moved.get(account, Decimal(0))
            assert parsed.ub.get(account, Decimal(0)) == expected, account
        else:
            assert parsed.res.get(account, Decimal(0)) == moved.get(account, Decimal(0)), account
    assert parsed.ub["1930"] == Decimal("1242.50")


def test_an_export_date_outside_the_year_is_held_to_the_year(
    open_year: None, treasurer: Any, tmp_path: Path
) -> None:
    parsed = _export(tmp_path, treasurer, as_of=dt.date(2027, 3, 1))
    assert parsed.omfattn == dt.date(2026, 12, 31)
    assert parsed.ub["1930"] == Decimal("5230.50"), "every voucher of the year, once"
