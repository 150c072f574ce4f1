"""One error body for every refusal: ``detail``, ``messages`` and, for input, ``fields``.

Workflow refusals keep their status (403 permission, 409 concurrent change, 400 input or
state) and their messages for people, as the services wrote them. A database that fails
mid-request (connection lost, deadlock, timeout, a full or read-only disk) answers 503
with the same body: the service's transaction was rolled back, unless the connection broke
during the commit itself, so the client is told to look before trying again. The outage is
logged once per incident (:mod:`core.database_incidents`), not once per request.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.database_incidents import note_failure, unavailable_error
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    TransitionNotAvailable,
    ValidationFailed,
    WorkflowError,
)

CODES: dict[type[WorkflowError], str] = {
    PermissionDenied: "permission_denied",
    ConflictError: "conflict",
    ValidationFailed: "validation_failed",
    TransitionNotAvailable: "transition_not_available",
}


#: Error codes -> what they mean, for the schema. Part "audit" of issue #20 (the coordinator
#: merges the other parts' codes into one dict).
ERROR_CODES: dict[str, str] = {
    "verification_not_possible": "The audit log cannot be verified now: signed checkpoints "
    "exist but the server has no public key to check them with (503).",
    "file_not_ready": "The payment batch's pain.001 file has not been exported yet: POST "
    "…/file/ and wait until its job (GET /api/v1/payout-file-jobs/{id}/) is done.",
}


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer, and of a 503 when the database failed."""

    detail = serializers.CharField()
    code = serializers.CharField()
    messages = serializers.ListField(child=serializers.CharField())
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            return {prefix or "non_field_errors": [str(v) for v in detail]}
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(code: str, messages: list[str], fields: dict[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"detail": " ".join(messages), "code": code, "messages": messages}
    if fields:
        body["fields"] = fields
    return body


#: Seconds a client should wait before trying again after a database failure.
RETRY_AFTER_SECONDS = 5


def database_unavailable_message() -> str:
    """What people read when the database failed them, on the pages and in the API."""
    return _(
        "The database did not complete the request. Reload to see whether your change "
        "was saved, then try again."
    )


def database_unavailable_body() -> dict:
    return error_body("database_unavailable", [database_unavailable_message()])


def database_unavailable(exc: Exception, context: dict[str, Any]) -> Response:
    note_failure(exc)
    response = Response(
        database_unavailable_body(),
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
    # Counted by the incident log instead of Django's line per 5xx answer.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if unavailable_error(exc) is not None:
        return database_unavailable(exc, context)
    if isinstance(exc, WorkflowError):
        code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), "error")
        return Response(error_body(code, exc.messages), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        messages = [
            f"{k}: {m}" if k != "non_field_errors" else m for k, v in fields.items() for m in v
        ]
        response.data = error_body("invalid", messages or [_("Invalid input.")], fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        text = str(detail) if not isinstance(detail, dict | list) else str(exc.default_detail)
        response.data = error_body(str(exc.default_code), [text])
    return response


def not_found(request: Any, exception: Exception | None = None) -> Any:
    """``handler404``: JSON under ``/api/``, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        body = error_body("not_found", [_("Not found.")])
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)  # type: ignore[arg-type]

