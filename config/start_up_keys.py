"""Requests wait for the start-up key check the database could not answer at start.

See :mod:`operations.start_up_keys`. Placed inside ``DatabaseUnavailableMiddleware`` (which
counts the outage once per incident and closes the failed connection) and after the health
probes: ``/healthz`` answers while the database is away, ``/readyz`` says why it is not ready.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.database_errors import database_unavailable_response
from core.database_incidents import note_failure, unavailable_error
from operations.key_canary import KeysNotChecked
from operations.start_up_keys import start_up_check


class StartUpKeyCheckMiddleware:
    """Nothing is served before the keys were checked, and nothing after they were refused."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if start_up_check.done:
            return self.get_response(request)
        try:
            refusal = start_up_check.before_serving()
        except KeysNotChecked as outage:
            note_failure(unavailable_error(outage) or outage)
            return database_unavailable_response(request)
        if refusal is not None:
            # The operator's message is in the log (CRITICAL, once); people get the outage page.
            return database_unavailable_response(request)
        return self.get_response(request)
