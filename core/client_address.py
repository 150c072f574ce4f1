"""The client's network address, as the sign-in lockout, the API's rate limits and logs see it.

Behind the documented reverse proxy (nginx on the same host) every request comes from the
proxy, so the client's address is taken from ``X-Forwarded-For`` — but only the entries our
own proxies wrote. Each proxy appends the address it received the request from, so with
``TRUSTED_PROXY_COUNT = N`` the client is the N-th entry from the right; anything further
left was written by the client and could be anything. The header counts only on a connection
from a trusted proxy address (``TRUSTED_PROXY_ADDRESSES``, gunicorn's ``FORWARDED_ALLOW_IPS``):
a request that reaches the application directly is judged by the address it connects from.

An IPv6 client is its /64 network: one subscriber holds a whole /64 (SLAAC, privacy
addresses), so counting each address apart would give a password guesser 2**64 fresh tries.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def client_address(request: Any) -> str | None:
    """The address to lock out, rate-limit and log for ``request``.

    Takes a Django ``HttpRequest`` (or anything with ``META``, as DRF's ``Request`` has);
    this is django-axes' ``AXES_CLIENT_IP_CALLABLE``.
    """
    meta = request.META
    peer = meta.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = meta.get(FORWARDED_FOR, "")
    if proxies <= 0 or not forwarded or not _is_trusted_proxy(peer, _trusted_proxies()):
        return _as_client(peer)
    entries = [entry.strip() for entry in forwarded.split(",")]
    # Fewer entries than proxies: the request passed fewer proxies than configured, and
    # every entry there is was written by one of them; the left-most is the furthest client.
    candidate = entries[-min(proxies, len(entries))]
    return _as_client(candidate if _is_address(candidate) else peer)


#: The prefix one IPv6 subscriber controls (RFC 6177 assigns at least a /64 each).
IPV6_CLIENT_PREFIX = 64


def _as_client(address: str | None) -> str | None:
    """An IPv4 address as it is; an IPv6 address as its /64 network (a valid address, so it
    fits axes' and the throttles' address columns); loopback and IPv4-mapped as themselves."""
    if address is None or not _is_address(address):
        return address
    parsed = ipaddress.ip_address(address)
    if not isinstance(parsed, ipaddress.IPv6Address) or parsed.is_loopback:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    network = ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False)
    return str(network.network_address)


def _trusted_proxies() -> list[str]:
    return list(getattr(settings, "TRUSTED_PROXY_ADDRESSES", ["127.0.0.1"]))


def _is_trusted_proxy(peer: str | None, trusted: Iterable[str]) -> bool:
    if peer is None or not _is_address(peer):
        return False
    address = ipaddress.ip_address(peer)
    for entry in trusted:
        if entry == "*":
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
