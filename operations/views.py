"""``/metrics`` for Prometheus: only for the scraper, and it writes nothing."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from audit.middleware import no_idle_checkpoint
from operations.metrics import CONTENT_TYPE, scrape

#: Headers a reverse proxy adds: such a request's REMOTE_ADDR is the proxy, not the client.
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


@lru_cache(maxsize=8)
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def has_the_token(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    given = _bearer_token(request)
    return bool(expected and given) and hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8")
    )


def from_an_allowed_address(request: HttpRequest) -> bool:
    """A direct connection from METRICS_ALLOWED_IPS. Through the proxy every client would be
    the proxy's address, so a forwarded request needs the token."""
    if any(request.META.get(header) for header in FORWARDED_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def may_scrape(request: HttpRequest) -> bool:
    return has_the_token(request) or from_an_allowed_address(request)


@require_GET
@no_idle_checkpoint
def metrics(request: HttpRequest) -> HttpResponse:
    """Anyone else gets the site's 404: the page's existence is not advertised."""
    if not may_scrape(request):
        raise Http404
    response = HttpResponse(scrape(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
