"""accounting.exports.sie: the SIE 4 writer's field rules (SIE 4B), one per test, no database.

Whole files, read back with the strict parser, are in tests/exports/test_sie.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounting.exports import ExportRefused
from accounting.exports.sie import (
    KTYP,
    _close_voucher,
    _object_list,
    _Text,
    is_balance_account,
    sie_amount,
    sie_date,
)
from accounting.models import AccountType


def test_sie_amounts_use_a_point_and_two_decimals():
    assert sie_amount(Decimal("1250.5")) == "1250.50"


def test_sie_amounts_have_no_thousands_separator():
    assert sie_amount(Decimal("1234567.89")) == "1234567.89"


def test_sie_credits_are_written_with_a_minus():
    assert sie_amount(Decimal("-75")) == "-75.00"


def test_sie_zero_is_written_without_a_sign():
    assert sie_amount(Decimal("-0.00")) == "0.00"
    assert sie_amount(Decimal("-0.004")) == "0.00"


def test_sie_amounts_are_rounded_half_up_to_ore():
    assert sie_amount(Decimal("0.125")) == "0.13"


def test_sie_amounts_in_exponent_form_are_written_out():
    assert sie_amount(Decimal("1E+3")) == "1000.00"


def test_sie_dates_are_eight_digits_year_month_day():
    assert sie_date(dt.date(2026, 3, 4)) == "20260304"


def test_sie_text_is_quoted():
    assert _Text().quote("Bank") == '"Bank"'


def test_sie_text_escapes_a_quote_with_a_backslash():
    assert _Text().quote('Faktura "X"') == '"Faktura \\"X\\""'


def test_sie_text_escapes_a_backslash_with_a_backslash():
    assert _Text().quote("C:\\kvitton") == '"C:\\\\kvitton"'


def test_sie_text_turns_tabs_and_line_breaks_into_spaces():
    assert _Text().quote("a\tb\r\nc") == '"a b  c"'


def test_sie_text_keeps_swedish_letters_that_cp437_holds():
    text = _Text()
    assert text.quote("Ändamål åäö") == '"Ändamål åäö"' and text.replaced == 0


def test_sie_text_transliterates_the_euro_sign_and_counts_it():
    text = _Text()
    assert text.quote("5 €") == '"5 EUR"' and text.replaced == 1


def test_sie_text_writes_typographic_quotes_as_ascii_then_escapes_them():
    assert _Text().quote("\u201cX\u201d") == '"\\"X\\""'


def test_sie_text_replaces_a_character_cp437_lacks_with_a_question_mark_and_counts_it():
    text = _Text()
    assert text.quote("Łódź") == '"?ód?"' and text.replaced == 2


def test_sie_text_counts_every_replacement_across_fields():
    text = _Text()
    text.quote("€")
    text.quote("\u2013")
    assert text.replaced == 2


def test_sie_balance_sheet_accounts_are_the_1xxx_and_2xxx_accounts():
    assert [is_balance_account(n) for n in ("1930", "2067", "3010", "8999")] == [
        True,
        True,
        False,
        False,
    ]


def test_sie_account_types_map_to_t_s_i_k():
    assert {kind: KTYP[kind] for kind in AccountType} == {
        AccountType.ASSET: "T",
        AccountType.LIABILITY: "S",
        AccountType.EQUITY: "S",
        AccountType.INCOME: "I",
        AccountType.EXPENSE: "K",
    }


def test_sie_object_list_names_cost_centre_project_and_fund_by_dimension_number():
    assert _object_list("100", "ESF-1", "F1", _Text()) == '{1 "100" 6 "ESF-1" 20 "F1"}'


def test_sie_object_list_leaves_out_dimensions_without_an_object():
    assert _object_list(None, "ESF-1", "", _Text()) == '{6 "ESF-1"}'


def test_sie_transaction_without_objects_has_an_empty_object_list():
    assert _object_list(None, None, None, _Text()) == "{}"


def test_sie_voucher_that_does_not_sum_to_zero_is_refused_naming_it():
    with pytest.raises(ExportRefused, match="voucher A12 does not balance"):
        _close_voucher(lambda *fields: None, Decimal("0.01"), "A12")


def test_sie_voucher_that_sums_to_zero_is_closed_with_a_brace():
    written: list[tuple[str, ...]] = []
    _close_voucher(lambda *fields: written.append(fields), Decimal("0.00"), "A12")
    assert written == [("}",)]
