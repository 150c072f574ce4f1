"""accounting.payees: the checks of where money goes, one rule per test (no database).

Known answers: the Luhn (mod 10) example of ISO/IEC 7812 ("79927398713"); Bankgirot's own
Bankgiro number 5050-1055; IBAN examples of ISO 13616 / the SWIFT IBAN registry (GB82 WEST…,
DE89 3704…, SE45 5000…, SE35 5000…) whose mod 97 remainder is 1.
"""

from __future__ import annotations

import pytest
from stdnum import luhn

from accounting.models import PaymentMethod
from accounting.payees import (
    validate_account,
    validate_bank_account,
    validate_bankgiro,
    validate_iban,
    validate_plusgiro,
)
from core.exceptions import ValidationFailed


def test_the_luhn_check_behind_giro_numbers_accepts_the_iso_7812_example():
    assert luhn.is_valid("79927398713") and not luhn.is_valid("79927398710")


def test_bankgirots_own_number_passes_the_bankgiro_check():
    assert validate_bankgiro("5050-1055") == "50501055"


def test_bankgiro_with_wrong_check_digit_is_refused():
    with pytest.raises(ValidationFailed, match="wrong check digit"):
        validate_bankgiro("5050-1056")


def test_bankgiro_with_six_digits_is_refused():
    with pytest.raises(ValidationFailed, match="7 or 8 digits"):
        validate_bankgiro("505010")


def test_bankgiro_with_nine_digits_is_refused():
    with pytest.raises(ValidationFailed, match="7 or 8 digits"):
        validate_bankgiro("505010550")


def test_bankgiro_with_letters_is_refused_by_length_not_by_a_crash():
    with pytest.raises(ValidationFailed, match="7 or 8 digits"):
        validate_bankgiro("5050-105O")


def test_bankgiro_drops_spaces_dashes_and_dots_as_written():
    assert validate_bankgiro(" 5050.1055 ") == "50501055"


def test_a_bankgiro_that_is_not_text_is_refused():
    with pytest.raises(ValidationFailed, match="7 or 8 digits"):
        validate_bankgiro(50501055)  # type: ignore[arg-type]


def test_plusgiro_of_two_digits_with_a_valid_check_digit_is_accepted():
    assert validate_plusgiro("1-8") == "18"


def test_plusgiro_of_one_digit_is_refused():
    with pytest.raises(ValidationFailed, match="2 to 8 digits"):
        validate_plusgiro("0")


def test_plusgiro_with_wrong_check_digit_is_refused():
    with pytest.raises(ValidationFailed, match=r"Plusgiro .* wrong check digit"):
        validate_plusgiro("447-2")


def test_bank_account_with_a_valid_check_digit_is_accepted_as_clearing_and_number():
    assert validate_bank_account("6000", "123 456 789") == ("6000", "123456789")


def test_bank_account_with_wrong_check_digit_is_refused_naming_the_account():
    with pytest.raises(ValidationFailed, match="6000-123456788 is not valid"):
        validate_bank_account("6000", "123456788")


def test_bank_account_with_letters_is_refused_as_digits_only():
    with pytest.raises(ValidationFailed, match="digits only"):
        validate_bank_account("60O0", "123456789")


def test_bank_account_with_a_clearing_number_no_bank_uses_is_refused():
    with pytest.raises(ValidationFailed, match="not valid"):
        validate_bank_account("0999", "123456789")


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "DE89 3704 0044 0532 0130 00",
        "SE45 5000 0000 0583 9825 7466",
        "SE35 5000 0000 0549 1000 0003",
    ],
)
def test_iban_from_the_standards_examples_passes_mod_97(iban):
    assert validate_iban(iban)[0] == iban.replace(" ", "")


def test_iban_with_wrong_check_digits_is_refused():
    with pytest.raises(ValidationFailed, match=r"IBAN .* not valid"):
        validate_iban("GB83 WEST 1234 5698 7654 32")


def test_iban_with_two_digits_swapped_is_refused():
    with pytest.raises(ValidationFailed, match=r"IBAN .* not valid"):
        validate_iban("SE45 5000 0000 0583 9825 7646")


def test_iban_in_lower_case_is_written_in_upper_case():
    assert validate_iban("se45 5000 0000 0583 9825 7466")[0] == "SE4550000000058398257466"


def test_iban_with_non_ascii_digits_is_refused():
    with pytest.raises(ValidationFailed, match="only letters A-Z and digits"):
        validate_iban("SE45 5000 0000 0583 9825 746\u0666")


def test_bic_of_eight_or_eleven_characters_is_accepted_in_upper_case():
    assert validate_iban("SE4550000000058398257466", "esse se ss")[1] == "ESSESESS"
    assert validate_iban("SE4550000000058398257466", "ESSESESSXXX")[1] == "ESSESESSXXX"


def test_bic_of_seven_characters_is_refused():
    with pytest.raises(ValidationFailed, match="BIC"):
        validate_iban("SE4550000000058398257466", "ESSESES")


def test_bic_with_a_digit_in_the_country_code_is_refused():
    with pytest.raises(ValidationFailed, match="BIC"):
        validate_iban("SE4550000000058398257466", "ESSES1SS")


def test_a_destination_without_a_known_method_is_refused():
    with pytest.raises(ValidationFailed, match="Choose how the payee is paid"):
        validate_account("cheque", "123")


def test_a_bank_account_destination_keeps_the_clearing_number_apart():
    checked = validate_account(PaymentMethod.BANK_ACCOUNT, "123456789", clearing_number="6000")
    assert (checked.account, checked.clearing_number, checked.bic) == ("123456789", "6000", "")
