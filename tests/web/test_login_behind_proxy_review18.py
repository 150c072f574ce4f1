"""Review of issue #18's lockout per user and address (review18 findings, fixed)."""

from __future__ import annotations

from typing import Any

from tests.fixtures import World
from tests.web.test_login_behind_proxy import PASSWORD, sign_in_from


def test_the_lockout_behind_a_trusted_proxy_locks_one_address_not_one_ipv6_host_number(
    world: World, settings: Any
) -> None:
    """'Lock per user and address': an IPv6 client owns a whole /64 (SLAAC, privacy
    addresses), so counting each of its addresses apart gives one password guesser unlimited
    tries against a user who signs in without a second factor (the ombud)."""
    settings.TRUSTED_PROXY_COUNT = 1
    user = world.ombud.user.username
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in_from(user, "wrong-password", forwarded=f"2001:db8:5:7::{attempt + 1:x}")

    next_host = sign_in_from(user, PASSWORD, forwarded="2001:db8:5:7::ffff")

    assert next_host.status_code == 429, "the same network is still the same client"
