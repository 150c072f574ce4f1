"""fund.references: the shape every edge checks a case reference against (no database)."""

from __future__ import annotations

import pytest

from fund.references import APPLICATION_REFERENCE


def test_a_case_reference_is_a_year_and_six_digits():
    assert APPLICATION_REFERENCE.fullmatch("A-2026-000123")


@pytest.mark.parametrize(
    "reference",
    ["A-2026-00123", "A-2026-0001234", "A-26-000123", "P-2026-000123", "a-2026-000123"],
)
def test_a_case_reference_of_another_shape_is_refused(reference):
    assert APPLICATION_REFERENCE.fullmatch(reference) is None


def test_a_case_reference_with_non_ascii_digits_is_refused():
    assert APPLICATION_REFERENCE.fullmatch("A-\u0662\u0660\u0662\u0666-000123") is None


def test_a_case_reference_with_anything_around_it_is_refused():
    assert APPLICATION_REFERENCE.fullmatch(" A-2026-000123") is None
    assert APPLICATION_REFERENCE.fullmatch("A-2026-000123\n") is None
