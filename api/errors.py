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

from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema_field
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


#: Every ``code`` an error body may carry, with what it means (English, for integrators).
#: The exception handler answers no other code; the schema lists them as an enum.
ERROR_CODES: dict[str, str] = {
    "invalid": "The request's input is malformed: `fields` names each problem, unknown "
    "fields included.",
    "validation_failed": "The input is well formed but the rules refuse it (the fund's "
    "limits, the case's data); `messages` say why.",
    "permission_denied": "Your role or case scope does not allow this.",
    "transition_not_available": "The step is not possible in the case's state, and never "
    "was in the state it came from.",
    "conflict": "Someone else changed the object first (a lost race, or the same step "
    "twice): reload it and decide again.",
    "not_found": "No such object or route within your scope.",
    "not_authenticated": "No credentials were given.",
    "authentication_failed": "The credentials are wrong, expired or revoked.",
    "method_not_allowed": "The route does not take this HTTP method.",
    "unsupported_media_type": "The body's Content-Type is not one the route reads.",
    "not_acceptable": "The route cannot answer in the media type the Accept header asks for.",
    "parse_error": "The body is not valid JSON (or XML where a file is expected).",
    "throttled": "Too many requests: wait as long as `Retry-After` says.",
    "request_too_large": "The body is larger than the route takes (413).",
    "database_unavailable": "The database did not complete the request: reload to see "
    "whether the change was saved, then try again after `Retry-After`.",
    "file_not_ready": "The payment batch's pain.001 file has not been exported yet: POST "
    "…/file/ and wait until its job (GET /api/v1/payout-file-jobs/{id}/) is done.",
    "verification_not_possible": "The audit log cannot be verified now: signed checkpoints "
    "exist but the server has no public key to check them with (503).",
    "error": "Any other refusal.",
}


def error_codes_description() -> str:
    """The schema's description of the error body: every code and what it means."""
    lines = [f"- `{code}`: {text}" for code, text in ERROR_CODES.items()]
    return "The body of every 4xx answer, and of a 503. `code` is one of:\n\n" + "\n".join(lines)


@extend_schema_field({"type": "string", "enum": sorted(ERROR_CODES)})
class ErrorCodeField(serializers.ChoiceField):
    """The error code: an enum inline in the schema (its meanings are in the body's
    description)."""


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer, and of a 503 when the database failed."""

    detail = serializers.CharField()
    code = ErrorCodeField(choices=sorted(ERROR_CODES))
    messages = serializers.ListField(child=serializers.CharField())
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


ErrorSerializer.__doc__ = error_codes_description()


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):  # a list's entry by index (DRF's ``many=True`` errors)
                name = f"{prefix}[{key}]"
            else:
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
    if code not in ERROR_CODES:
        code = "error"
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


def bad_request(request: Any, exception: Exception | None = None) -> Any:
    """``handler400``: what Django refuses before a view runs (a host not allowed, more fields
    than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``): JSON under ``/api/``, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import bad_request as page_bad_request

    if request.path.startswith("/api/"):
        body = error_body("invalid", [_("The request cannot be read.")])
        return JsonResponse(body, status=400)
    return page_bad_request(request, exception)  # type: ignore[arg-type]


def not_found(request: Any, exception: Exception | None = None) -> Any:
    """``handler404``: JSON under ``/api/``, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        body = error_body("not_found", [_("Not found.")])
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)  # type: ignore[arg-type]


@method_decorator(csrf_exempt, name="dispatch")  # a POST answers the same 404, not a CSRF page
class UnknownRoute(View):
    """The catch-all at the end of ``api.urls``: no such route, the same JSON body as any
    404, for every method and whatever ``DEBUG`` is. A real route without its slash still
    redirects, as Django's ``APPEND_SLASH`` did before the catch-all matched everything."""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
            try:
                match = resolve(request.path + "/")
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "view_class", None) is not UnknownRoute:
                return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        return JsonResponse(error_body("not_found", [_("Not found.")]), status=404)
