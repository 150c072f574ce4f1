"""A database that cannot answer (full or read-only disk, lost server): 503, not 400 or 500.

Django's session middleware turns any database error while saving the session — which
``SESSION_SAVE_EVERY_REQUEST`` does on every request, reads included — into
``SessionInterrupted``, a 400 "Bad Request"; an error in a view became a 500. Here:

- a view (or the template it renders) that meets an outage answers 503 with ``Retry-After``
  and the API's message for a lost database: JSON under ``/api/``, a page in the site's
  layout elsewhere, in the request's language (Swedish unless asked otherwise);
- a session that only needed its idle timeout renewed is left as it was, so pages that only
  read are still served from a read-only or full disk; a session that changed (signing in
  or out, a verified one-time code) answers 503, since the change was lost;
- each request counts once in the incident log (:mod:`core.database_incidents`), and the
  connection that failed is closed, so the next request opens a fresh one and nothing needs
  a restart once the disk has space or is writable again.

A read that must be logged (a person's data) is never served unlogged: the access log's
write fails, the view raises, and the answer is this 503.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers

from api.errors import RETRY_AFTER_SECONDS, database_unavailable_body
from core.database_incidents import incidents, note_failure, unavailable_error, watching_request

TEMPLATE = "web/database_unavailable.html"


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 for people: the API's body under ``/api/``, a page in the layout elsewhere."""
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(
        request
    )
    with translation.override(language):
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(database_unavailable_body(), status=503)
        else:
            # No request context: the layout's user menu would ask the database again.
            html = render_to_string(
                TEMPLATE,
                {
                    "body": database_unavailable_body(),
                    "request": request,
                    "csrf_token": get_token(request),
                },
            )
            response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # The incident log reports it (once), instead of Django's line per 5xx answer.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseUnavailableMiddleware:
    """Watches each request's database work; answers a view's outage with the 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with watching_request() as watch, connection.execute_wrapper(watch.observe):
            response = self.get_response(request)
        if watch.failure is not None:
            incidents.failed(watch.failure, f"{request.method} {request.path}")
            if not connection.in_atomic_block:
                # A SQLite connection opened while the disk was read-only stays read-only.
                connection.close()
        elif watch.wrote:
            incidents.succeeded()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        failure = unavailable_error(exception)
        if failure is None:
            return None
        note_failure(failure)
        return database_unavailable_response(request)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except when the database cannot save the session (see the module)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except Exception as exc:  # SessionInterrupted (an update) or the DatabaseError itself
            failure = unavailable_error(exc)
            if failure is None:
                raise
            note_failure(failure)
            if request.session.modified:
                return database_unavailable_response(request)
            patch_vary_headers(response, ("Cookie",))
            return response
