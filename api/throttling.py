"""Rate limits per user and per anonymous client; rates from ``settings.API_THROTTLE_RATES``.

The rates are read on every request (not frozen at import), so deployments and tests can
change them. With several gunicorn workers, set ``CACHE_URL`` (Redis) so they share counts.
An anonymous client is counted by the address the sign-in lockout uses
(:func:`core.client_address.client_address`): DRF's own reading of ``X-Forwarded-For``
takes the whole header when ``NUM_PROXIES`` is unset, so a forged header reset the count.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.client_address import client_address


class _SettingsRate:
    scope: str

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[attr-defined]
        return super().allow_request(request, view)  # type: ignore[misc]

    def get_ident(self, request: Any) -> str:
        return client_address(request) or ""


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    pass


class UserThrottle(_SettingsRate, UserRateThrottle):
    pass
