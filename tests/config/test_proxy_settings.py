"""The reverse proxy's settings: a mistyped proxy address refuses to start.

Ignoring it instead would make every client the proxy's address again, one lockout for all.
"""

from tests.config.test_deploy_settings import _manage


def test_a_proxy_address_that_is_no_address_refuses_to_start():
    result = _manage("check", FORWARDED_ALLOW_IPS="127.0.0.1,nginx", TRUSTED_PROXY_COUNT="1")
    assert result.returncode != 0
    assert "FORWARDED_ALLOW_IPS: 'nginx' is neither an address nor a network." in result.stderr


def test_a_negative_proxy_count_refuses_to_start():
    result = _manage("check", TRUSTED_PROXY_COUNT="-1")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 (no proxy) or more." in result.stderr


def test_proxy_networks_and_counts_are_accepted():
    result = _manage(
        "check", FORWARDED_ALLOW_IPS="127.0.0.1, ::1, 10.1.0.0/16", TRUSTED_PROXY_COUNT="2"
    )
    assert result.returncode == 0, result.stderr
