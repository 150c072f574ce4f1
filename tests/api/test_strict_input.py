"""Strict input: an unknown field is refused with a 400 that names it, at any depth, for
every request body the API reads."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from api.strict import StrictSerializer, unknown_field_check_escapes
from fund.models import Application, Beneficiary

pytestmark = pytest.mark.django_db

NEW_CASE = {
    "fund": "allmant",
    "person": {"name": "Amira Hassan", "region": "AB"},
    "items": [{"category": "glasses", "amount": "1500.00", "description": "glasögon"}],
}


def test_an_items_currency_is_refused_not_ignored(world, as_role):
    case = {
        **NEW_CASE,
        "items": [
            {"category": "glasses", "amount": "100"},
            {"category": "glasses", "amount": "1500.00", "currency": "EUR"},
        ],
    }

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["items[1].currency"]
    assert "items[1].currency" in body["detail"]
    assert not Application.objects.exists()
    assert not Beneficiary.objects.exists()


def test_unknown_fields_are_named_at_every_level_together_with_other_problems(world, as_role):
    case = {
        **NEW_CASE,
        "fundd": "x",
        "person": {"name": "A", "nickname": "B"},
        "items": [{"category": "glasses", "amount": "-1", "colour": "red"}],
    }

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {"fundd", "person.nickname", "items[0].colour", "items[0].amount"} <= set(fields)


def test_an_unknown_field_on_a_step_is_refused(world, as_role):
    app = world.new_application("100")
    response = as_role("ombud").post(
        f"/api/v1/applications/{app.reference}/transitions/submit/",
        {"comment": "hej"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["comment"]
    app.refresh_from_db()
    assert app.state == "draft"


def test_an_unknown_field_on_an_assessment_and_a_batch_is_refused(world, as_role):
    app = world.to_statutory_check(world.new_application("100"))
    assessed = as_role("officer").post(
        f"/api/v1/applications/{app.reference}/items/1/assessment/",
        {"outcome": "not_obliged", "obliged": True},
        format="json",
    )
    batch = as_role("treasurer").post(
        "/api/v1/payment-batches/", {"execution_day": "2030-01-01"}, format="json"
    )
    assert (assessed.status_code, list(assessed.json()["fields"])) == (400, ["obliged"])
    assert (batch.status_code, list(batch.json()["fields"])) == (400, ["execution_day"])


def _request_serializers() -> dict[str, serializers.BaseSerializer]:
    """Every serializer the schema names as a request body, by ``METHOD path``."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = {}
    for path, _regex, method, callback in generator.endpoints:
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view = generator.create_view(callback, method)
        serializer = view.schema.get_request_serializer()
        if isinstance(serializer, serializers.BaseSerializer):
            found[f"{method} {path}"] = serializer
        elif isinstance(serializer, type) and issubclass(serializer, serializers.BaseSerializer):
            found[f"{method} {path}"] = serializer()
    return found


def test_every_request_body_of_the_schema_refuses_unknown_fields():
    bodies = _request_serializers()
    assert "POST /api/v1/applications/" in bodies  # the walk found the bodies
    escapes = {name: unknown_field_check_escapes(s) for name, s in bodies.items()}
    assert {name: e for name, e in escapes.items() if e} == {}
    for name, serializer in bodies.items():
        probe = type(serializer)(data={"zz_not_a_field": 1})
        assert not probe.is_valid(), name
        assert "zz_not_a_field" in probe.errors, name


def test_the_walk_would_catch_a_lenient_nested_serializer():
    class Lenient(serializers.Serializer):
        a = serializers.CharField()

    class Outer(StrictSerializer):
        rows = Lenient(many=True)

    assert unknown_field_check_escapes(Outer()) == ["Lenient"]


def test_a_field_of_another_step_is_refused_not_dropped(world, as_role):
    app = world.to_decision(world.new_application("900"))
    response = as_role("decider").post(
        f"/api/v1/applications/{app.reference}/transitions/approve/",
        {"reason": "within_rules", "message": "Komplettera", "payee": "P-2026-000001"},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert sorted(response.json()["fields"]) == ["message", "payee"]
    app.refresh_from_db()
    assert app.state == "ready_for_decision"


def test_every_step_field_is_a_field_of_the_step_input():
    from api.serializers import TRANSITION_NAMES, TransitionInputSerializer
    from api.strict import STEP_FIELDS

    fields = set(TransitionInputSerializer().fields)
    assert set(STEP_FIELDS) <= set(TRANSITION_NAMES)
    assert set().union(*STEP_FIELDS.values()) == fields
