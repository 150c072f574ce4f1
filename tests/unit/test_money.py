"""fund.money: amounts as people type them, öre precision, SEK only, as people read them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from moneyed import Money

from fund.money import (
    MAX_AMOUNT,
    format_money,
    parse_amount,
    parse_decimal,
    quantize,
    sek,
)

NBSP = "\u00a0"


def test_half_an_ore_rounds_up():
    assert quantize(Decimal("0.005")) == Decimal("0.01")


def test_half_an_ore_below_zero_rounds_away_from_zero():
    assert quantize(Decimal("-0.005")) == Decimal("-0.01")


def test_sek_makes_a_swedish_krona_amount_in_ore():
    assert sek("12.3") == Money(Decimal("12.30"), "SEK")


def test_an_amount_with_a_decimal_comma_and_spaces_is_read():
    assert parse_decimal("1 250,50", field="Amount") == Decimal("1250.50")


def test_an_amount_with_a_decimal_point_is_read():
    assert parse_decimal("1250.5", field="Amount") == Decimal("1250.50")


def test_a_number_is_read_as_its_amount():
    assert parse_decimal(1250, field="Amount") == Decimal("1250.00")


def test_an_amount_with_english_thousands_commas_is_refused():
    with pytest.raises(ValidationError, match="is not an amount"):
        parse_decimal("1,250.50", field="Amount")


def test_an_amount_with_three_decimals_is_refused():
    with pytest.raises(ValidationError, match="two decimals"):
        parse_decimal("10.005", field="Amount")


def test_trailing_zeros_beyond_the_ore_are_not_extra_decimals():
    assert parse_decimal("10.500", field="Amount") == Decimal("10.50")


def test_the_largest_amount_a_money_field_holds_is_accepted():
    assert parse_decimal(str(MAX_AMOUNT), field="Amount") == MAX_AMOUNT


def test_an_amount_larger_than_a_money_field_holds_is_refused():
    with pytest.raises(ValidationError, match="larger than"):
        parse_decimal("1000000000000", field="Amount")


def test_infinity_and_nan_are_not_amounts():
    for text in ("Infinity", "NaN"):
        with pytest.raises(ValidationError, match="not an amount"):
            parse_decimal(text, field="Amount")


def test_the_refusal_names_the_field():
    with pytest.raises(ValidationError, match="Belopp: "):
        parse_decimal("abc", field="Belopp")


def test_an_amount_grouped_with_non_breaking_spaces_is_read():
    assert parse_decimal(f"1{NBSP}250,50", field="Amount") == Decimal("1250.50")


def test_a_negative_amount_is_refused_at_the_edge():
    with pytest.raises(ValidationError, match="greater than zero"):
        parse_amount("-1", field="Amount")


def test_zero_is_refused_unless_allowed():
    with pytest.raises(ValidationError, match="greater than zero"):
        parse_amount("0", field="Amount")
    assert parse_amount("0", field="Amount", allow_zero=True) == Money(Decimal("0.00"), "SEK")


def test_an_amount_in_another_currency_is_refused():
    with pytest.raises(ValidationError, match="only SEK"):
        parse_amount(Money(10, "EUR"), field="Amount")


def test_a_sek_money_value_passes_as_itself():
    assert parse_amount(Money(Decimal("10.5"), "SEK"), field="Amount") == Money(
        Decimal("10.50"), "SEK"
    )


def test_swedish_amounts_group_thousands_with_a_non_breaking_space_and_use_a_comma():
    with translation.override("sv"):
        assert format_money(Decimal("1250.5")) == f"1{NBSP}250,50{NBSP}kr"


def test_english_amounts_put_sek_first_with_a_thousands_comma():
    with translation.override("en"):
        assert format_money(Money(Decimal("1250.5"), "SEK")) == "SEK 1,250.50"


def test_a_shown_amount_is_rounded_to_ore():
    with translation.override("en"):
        assert format_money(Decimal("0.005")) == "SEK 0.01"
