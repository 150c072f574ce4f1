"""Every error code the API answers is documented in ``api.errors.ERROR_CODES``, the schema
lists them, and unknown routes under ``/api/`` answer the JSON error body whatever DEBUG is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError
from rest_framework import exceptions
from rest_framework.test import APIClient

from api.errors import ERROR_CODES, ErrorSerializer, exception_handler
from config.request_limits import RequestSizeLimitMiddleware
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    TransitionNotAvailable,
    ValidationFailed,
    WorkflowError,
)

pytestmark = pytest.mark.django_db


def _code_of(exc: Exception) -> str:
    response = exception_handler(exc, {"view": None, "request": None})
    assert response is not None
    return str(response.data["code"])


class _Unlisted(exceptions.APIException):
    status_code = 418
    default_code = "teapot_not_documented"
    default_detail = "Short and stout."


@pytest.mark.parametrize(
    "exc",
    [
        ValidationFailed("x"),
        PermissionDenied("x"),
        ConflictError("x"),
        TransitionNotAvailable("x"),
        WorkflowError("x"),
        exceptions.ValidationError({"a": ["x"]}),
        exceptions.ParseError(),
        exceptions.AuthenticationFailed(),
        exceptions.NotAuthenticated(),
        exceptions.PermissionDenied(),
        exceptions.NotFound(),
        exceptions.MethodNotAllowed("PUT"),
        exceptions.NotAcceptable(),
        exceptions.UnsupportedMediaType("text/plain"),
        exceptions.Throttled(wait=3),
        OperationalError("connection lost"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_every_code_the_handler_answers_is_documented(exc):
    assert _code_of(exc) in ERROR_CODES


def test_a_code_outside_the_documented_ones_is_never_emitted():
    assert _code_of(_Unlisted()) == "error"
    assert "error" in ERROR_CODES


def test_the_documented_codes_include_the_generic_ones_and_describe_each():
    generic = {
        "permission_denied",
        "conflict",
        "validation_failed",
        "transition_not_available",
        "invalid",
        "not_found",
        "not_authenticated",
        "authentication_failed",
        "method_not_allowed",
        "unsupported_media_type",
        "not_acceptable",
        "parse_error",
        "throttled",
        "database_unavailable",
        "file_not_ready",
        "error",
    }
    assert generic <= set(ERROR_CODES)
    assert all(isinstance(text, str) and text.strip() for text in ERROR_CODES.values())


def _provoke(world: Any, as_role: Any) -> dict[str, Any]:
    """Each generic DRF refusal, provoked through real requests."""
    officer = as_role("officer")
    anonymous = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    bad_token = APIClient(HTTP_AUTHORIZATION="Token nope", HTTP_ACCEPT_LANGUAGE="en")
    return {
        "not_authenticated": anonymous.get("/api/v1/applications/"),
        "authentication_failed": bad_token.get("/api/v1/applications/"),
        "not_found": officer.get("/api/v1/applications/A-2000-000001/"),
        "method_not_allowed": officer.delete("/api/v1/applications/"),
        "unsupported_media_type": officer.post(
            "/api/v1/applications/", "x=1", content_type="text/plain"
        ),
        "parse_error": officer.post(
            "/api/v1/applications/", "{nope", content_type="application/json"
        ),
        "not_acceptable": officer.get("/api/v1/applications/", HTTP_ACCEPT="text/csv"),
        "invalid": officer.post("/api/v1/applications/", {}, format="json"),
        "permission_denied": as_role("ombud").get("/api/v1/payment-batches/"),
    }


def test_each_generic_drf_refusal_answers_a_documented_code(world, as_role):
    for expected, response in _provoke(world, as_role).items():
        body = response.json()
        assert body["code"] == expected, (expected, response.status_code, body)
        assert body["code"] in ERROR_CODES
        assert set(body) >= {"detail", "code", "messages"}


def test_the_schema_lists_every_error_code_with_its_description():
    field = ErrorSerializer().fields["code"]
    assert set(field.choices) == set(ERROR_CODES)
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    component = schema["components"]["schemas"]["Error"]
    code = component["properties"]["code"]
    enum = code.get("enum") or schema["components"]["schemas"][code["$ref"].rsplit("/", 1)[-1]].get(
        "enum"
    )
    assert set(enum) == set(ERROR_CODES)
    for name, text in ERROR_CODES.items():
        assert f"`{name}`" in component["description"]
        assert text in component["description"]


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/nope", "/api/v1/applications/x/y/z/"])
def test_unknown_api_routes_answer_json_404_even_with_debug(world, as_role, settings, path):
    settings.DEBUG = True
    response = as_role("officer").get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "not_found"
    assert body["messages"]


def test_a_wrong_method_on_a_real_route_answers_json_405_even_with_debug(world, as_role, settings):
    settings.DEBUG = True
    response = as_role("officer").put("/api/v1/applications/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unknown_api_routes_answer_json_404_to_anonymous_callers_too(settings):
    settings.DEBUG = True
    for response in (
        APIClient().get("/api/v1/nope/"),
        APIClient(enforce_csrf_checks=True).post("/api/v1/nope/", {}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_a_real_route_without_its_slash_still_redirects(world, as_role):
    response = as_role("officer").get("/api/v1/applications?state=draft")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/applications/?state=draft"


def test_a_body_too_large_answers_a_documented_code():
    response = RequestSizeLimitMiddleware.refuse(
        type("R", (), {"path": "/api/v1/applications/"})(), "too large"
    )
    assert response.status_code == 413
    assert json.loads(response.content)["code"] in ERROR_CODES
