"""``Permissions-Policy`` on every answer: pages, API, error pages and static files.

Browser features the site does not use (camera, microphone, location, payment, USB…) are
switched off for its pages and for anything they could embed, so an injected script or frame
cannot ask for them. The policy is ``PERMISSIONS_POLICY`` in the settings.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Permissions-Policy"


def policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` as ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault(HEADER, self.header)
        return response
