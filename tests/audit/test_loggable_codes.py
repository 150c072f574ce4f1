"""Codes typed by administrators reach the permanent log: the form refuses what the log would.

Without this a fund, dimension object or project whose code is written like a name ("Malmo")
or holds a space would fail at save with an audit error instead of a message on the field.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounting.models import Dimension, DimensionObject
from cofinancing.models import Project
from fund.models import Fund


def _code_errors(instance: object) -> list[str]:
    try:
        instance.full_clean()  # type: ignore[attr-defined]
    except ValidationError as exc:
        return exc.message_dict.get("code", [])
    return []


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["Malmo", "ESF Malmö", "Anna-Karin"])
def test_a_code_the_audit_log_would_refuse_is_refused_where_it_is_typed(code: str) -> None:
    dimension = Dimension.objects.get(number=6)
    candidates = [
        Fund(code=code, name="Fonden", accounting_dimension="X"),
        DimensionObject(dimension=dimension, code=code, name="Projektet"),
        Project(code=code, name="Projektet"),
    ]
    for instance in candidates:
        errors = _code_errors(instance)
        assert any("cannot be a code" in error for error in errors), (instance, errors)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["esf-malmo", "ESF1", "barnfonden"])
def test_code_shaped_codes_are_accepted(code: str) -> None:
    dimension = Dimension.objects.get(number=6)
    for instance in (
        Fund(code=code, name="Fonden", accounting_dimension="X"),
        DimensionObject(dimension=dimension, code=code, name="Projektet"),
        Project(code=code, name="Projektet"),
    ):
        assert _code_errors(instance) == []
