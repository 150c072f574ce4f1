"""Issue #20: through the API a co-signer names the decision they read."""

from __future__ import annotations

import pytest

from workflows.models import DecisionStatus

pytestmark = pytest.mark.django_db

ABOVE_THRESHOLD = "12000"  # the world's fund needs two signatures above 10 000


def _awaiting_second_signature(world, as_role):
    app = world.to_decision(world.new_application(ABOVE_THRESHOLD))
    first = as_role("decider").post(
        f"/api/v1/applications/{app.reference}/transitions/approve/", {}, format="json"
    )
    assert first.status_code == 200, first.json()
    return app, app.decisions.get(status=DecisionStatus.AWAITING_SIGNATURE)


def _co_sign(client, app, body):
    return client.post(
        f"/api/v1/applications/{app.reference}/transitions/approve/", body, format="json"
    )


def test_a_co_signature_without_the_decision_named_is_refused_and_signs_nothing(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)

    refused = _co_sign(as_role("decider2"), app, {})

    assert refused.status_code == 400
    assert "name the decision you sign" in refused.json()["detail"]
    assert pending.signatures.count() == 1


def test_a_co_signature_naming_the_decision_read_puts_it_in_force(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)

    signed = _co_sign(as_role("decider2"), app, {"decision": pending.pk})

    assert signed.status_code == 200, signed.json()
    assert signed.json()["state"] == "approved"


def test_a_co_signature_naming_another_decision_is_refused(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)

    refused = _co_sign(as_role("decider2"), app, {"decision": pending.pk + 1})

    assert refused.status_code == 400
    assert pending.signatures.count() == 1


def test_the_decisions_list_shows_what_awaits_a_signature_with_its_items(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)

    listed = as_role("decider2").get(f"/api/v1/applications/{app.reference}/decisions/").json()

    [decision] = listed["results"]
    assert decision["id"] == pending.pk
    assert decision["status"] == "awaiting_signature"
    assert decision["items"][0]["amount"] == {"amount": "12000.00", "currency": "SEK"}
