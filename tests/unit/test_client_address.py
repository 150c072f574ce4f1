"""Which address is the client's: the proxy's own entry in X-Forwarded-For, never the client's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory, override_settings

from core.client_address import client_address


def request_from(remote: str, forwarded: str | None = None) -> Any:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (0, "203.0.113.5", "127.0.0.1"),  # no proxy: the header is the client's own words
        (1, None, "127.0.0.1"),  # from the proxy host itself, nothing forwarded
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.1, 203.0.113.5", "203.0.113.5"),  # the left entry was forged
        (1, "10.0.0.1,203.0.113.5", "203.0.113.5"),
        (2, "10.0.0.1, 203.0.113.5, 192.0.2.10", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),  # fewer entries than proxies: all are theirs
        (1, "2001:db8::5", "2001:db8::"),  # an IPv6 client is its /64
        (1, "2001:db8:5:7:a:b:c:d", "2001:db8:5:7::"),
        (1, "::ffff:203.0.113.5", "203.0.113.5"),  # IPv4-mapped: the IPv4 client
        (1, "10.0.0.1, not-an-address", "127.0.0.1"),  # a broken entry: the connecting peer
        (1, "", "127.0.0.1"),
    ],
)
def test_the_client_is_the_nth_forwarded_entry_from_the_right(
    proxies: int, forwarded: str | None, client: str
) -> None:
    with override_settings(TRUSTED_PROXY_COUNT=proxies, TRUSTED_PROXY_ADDRESSES=["127.0.0.1"]):
        assert client_address(request_from("127.0.0.1", forwarded)) == client


@pytest.mark.parametrize(
    ("trusted", "remote", "client"),
    [
        (["127.0.0.1"], "192.0.2.9", "192.0.2.9"),  # not our proxy: its header counts for nothing
        (["10.1.0.0/16"], "10.1.4.2", "203.0.113.5"),  # a proxy network
        (["10.1.0.0/16"], "10.2.4.2", "10.2.4.2"),
        (["*"], "192.0.2.9", "203.0.113.5"),
        (["::1"], "::1", "203.0.113.5"),
    ],
)
def test_only_a_trusted_proxy_may_name_the_client(
    trusted: list[str], remote: str, client: str
) -> None:
    with override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXY_ADDRESSES=trusted):
        assert client_address(request_from(remote, "10.0.0.1, 203.0.113.5")) == client
