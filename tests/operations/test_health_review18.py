"""Review of issue #18's health probes (review18 findings, fixed)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditVerificationRun
from operations import health
from operations.key_canary import check_keys_at_start
from tests.fixtures import World


@pytest.fixture
def ready(world: World) -> World:
    world.new_application("500")
    check_keys_at_start()
    health._migrated.clear()
    return world


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_carry_the_security_headers_every_page_has(ready: World, path: str) -> None:
    """The probes are reachable through the proxy like every page: the headers every other
    answer carries (nosniff, framing, referrer) must not be dropped because they answer early."""
    AuditVerificationRun.objects.create(
        ran_at=timezone.now(), kind="verify", ok=True, summary="intact"
    )
    response = Client().get(path)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "Referrer-Policy" in response.headers


def test_readyz_through_the_proxy_tells_an_unknown_client_nothing_useful(ready: World) -> None:
    """'Neither … leaks anything': /readyz is not kept from the proxy (only /metrics is), so
    anyone learns that the audit chain was found broken, which key does not fit, how many
    migrations are pending and whether the broker answers — what an insider who altered
    the history, or an attacker timing an attack, wants to know. The load balancer needs the
    status code; the details belong to the operator (a direct or token-holding request)."""
    AuditVerificationRun.objects.create(
        ran_at=timezone.now(), kind="verify", ok=False, summary="broken at 3"
    )
    response = Client().get("/readyz", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert response.status_code == 503
    body = response.content.decode()
    assert "audit" not in body and "chain" not in body, body
