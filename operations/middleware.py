"""Counting every request for ``/metrics`` by the name of its URL pattern, never its path."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from operations.metrics import count_request

#: Requests no URL pattern answered: static files (WhiteNoise answers before the URLs) and
#: paths that match nothing.
STATIC_ROUTE = "static"
UNRESOLVED_ROUTE = "unresolved"
#: The health probes, named as their URL patterns are.
PROBE_ROUTES = ("/healthz", "/readyz")


def route_of(request: HttpRequest) -> str:
    """The matched pattern's name (``web:case``) — paths carry references and ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    probe = request.path_info.rstrip("/")
    if probe in PROBE_ROUTES:
        # Answered by HealthProbeMiddleware before any URL is resolved.
        return probe.lstrip("/")
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return STATIC_ROUTE
    return UNRESOLVED_ROUTE


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        count_request(
            request.method or "",
            route_of(request),
            response.status_code,
            time.perf_counter() - started,
        )
        return response
