"""The sign-in lockout and the API's rate limit behind the documented reverse proxy.

nginx in front of gunicorn on 127.0.0.1: every request reaches Django from 127.0.0.1, and
the client's address is the one the proxy wrote into X-Forwarded-For (README "Deployment").
Entries further left were written by the client and are never trusted.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from tests.fixtures import World

PASSWORD = "a-long-test-password"  # tests.factories.UserFactory
CLIENT = "203.0.113.5"
OTHER_CLIENT = "198.51.100.7"
PROXY = "127.0.0.1"  # Django's test client connects from here, like nginx on the same host


def sign_in_from(
    username: str, password: str, *, forwarded: str | None, remote: str = PROXY
) -> Any:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(
        reverse("web:login"),
        {"username": username, "password": password, "otp_token": ""},
        **headers,
    )


def fail_until_locked(username: str, **where: Any) -> None:
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in_from(username, "wrong-password", **where)
        assert response.status_code in (400, 429)


@pytest.mark.evidence("security")
def test_behind_a_trusted_proxy_failures_lock_the_client_address_not_everyone(
    world: World, settings: Any, evidence: Any
) -> None:
    """Five bad passwords from one client lock that client out, not the user everywhere."""
    settings.TRUSTED_PROXY_COUNT = 1
    user = world.ombud.user.username
    fail_until_locked(user, forwarded=CLIENT)

    locked = sign_in_from(user, PASSWORD, forwarded=CLIENT)
    elsewhere = sign_in_from(user, PASSWORD, forwarded=OTHER_CLIENT)
    evidence.row(tried="right password from the locked-out client", outcome=str(locked.status_code))
    evidence.row(tried="right password from another client", outcome=str(elsewhere.status_code))
    assert locked.status_code == 429
    assert elsewhere.status_code == 302


@pytest.mark.evidence("security")
def test_a_forged_forwarded_entry_neither_escapes_the_lockout_nor_locks_out_another_address(
    world: World, settings: Any, evidence: Any
) -> None:
    """The client writes what it likes left of the proxy's entry; only the proxy's counts."""
    settings.TRUSTED_PROXY_COUNT = 1
    user = world.ombud.user.username
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A new forged address each time, the last one naming someone else's address.
        forged = OTHER_CLIENT if attempt == settings.AXES_FAILURE_LIMIT - 1 else f"10.9.9.{attempt}"
        sign_in_from(user, "wrong-password", forwarded=f"{forged}, {CLIENT}")

    rotated = sign_in_from(user, PASSWORD, forwarded=f"10.9.9.99, {CLIENT}")
    victim = sign_in_from(user, PASSWORD, forwarded=OTHER_CLIENT)
    evidence.row(
        tried="5 bad passwords with a rotating forged X-Forwarded-For, then the right one",
        outcome=str(rotated.status_code),
    )
    evidence.row(tried="the forged address signs in itself", outcome=str(victim.status_code))
    assert rotated.status_code == 429
    assert victim.status_code == 302


@pytest.mark.evidence("security")
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(
    world: World, settings: Any, evidence: Any
) -> None:
    """TRUSTED_PROXY_COUNT=0 (no proxy): the connecting address is the client, whatever it says."""
    settings.TRUSTED_PROXY_COUNT = 0
    user = world.ombud.user.username
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(user, "wrong-password", forwarded=f"10.9.9.{attempt}", remote=CLIENT)

    response = sign_in_from(user, PASSWORD, forwarded=OTHER_CLIENT, remote=CLIENT)
    evidence.row(
        tried="no proxy: 5 bad passwords with rotating X-Forwarded-For, then the right one",
        outcome=str(response.status_code),
    )
    assert response.status_code == 429


def test_a_request_that_bypasses_the_proxy_cannot_name_its_own_address(
    world: World, settings: Any
) -> None:
    """The header counts only on connections from a trusted proxy address (FORWARDED_ALLOW_IPS)."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = [PROXY]
    user = world.ombud.user.username
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(user, "wrong-password", forwarded=f"10.9.9.{attempt}", remote=CLIENT)

    assert sign_in_from(user, PASSWORD, forwarded=OTHER_CLIENT, remote=CLIENT).status_code == 429
    assert sign_in_from(user, PASSWORD, forwarded=OTHER_CLIENT).status_code == 302


def _schema_from(forwarded: str) -> int:
    return Client().get(reverse("api:schema"), HTTP_X_FORWARDED_FOR=forwarded).status_code


@pytest.mark.evidence("security")
def test_the_api_rate_limit_counts_the_same_client_address_as_the_lockout(
    db: None, settings: Any, evidence: Any
) -> None:
    """The anonymous API limit is per client address too: a forged entry does not reset it."""
    settings.TRUSTED_PROXY_COUNT = 1
    cache.clear()
    with override_settings(API_THROTTLE_RATES={"user": "1/min", "anon": "1/min"}):
        first = _schema_from(CLIENT)
        forged = _schema_from(f"10.9.9.1, {CLIENT}")
        other = _schema_from(OTHER_CLIENT)
    evidence.row(tried="anonymous API: a second request with a forged entry", outcome=str(forged))
    assert (first, forged, other) == (200, 429, 200)


def test_without_a_proxy_the_api_rate_limit_ignores_the_forwarded_header(
    db: None, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    cache.clear()
    with override_settings(API_THROTTLE_RATES={"user": "1/min", "anon": "1/min"}):
        answers = [_schema_from(address) for address in (CLIENT, OTHER_CLIENT)]
    assert answers == [200, 429]
