"""Review of #20: four eyes through the API. A treasurer never approves the batch they made,
a decision-maker never co-signs their own decision, a co-signer names what they sign, and a
decision set aside cannot be signed by its old id."""

from __future__ import annotations

import pytest

from accounting.models import BatchStatus, PaymentBatch
from workflows.models import Decision, DecisionSignature, DecisionStatus

pytestmark = pytest.mark.django_db

ABOVE_THRESHOLD = "12000"  # the world's fund needs two signatures above 10 000


def _step(client, app, name, body=None):
    return client.post(
        f"/api/v1/applications/{app.reference}/transitions/{name}/", body or {}, format="json"
    )


def _awaiting_second_signature(world, as_role):
    app = world.to_decision(world.new_application(ABOVE_THRESHOLD))
    first = _step(as_role("decider"), app, "approve")
    assert first.status_code == 200, first.json()
    return app, app.decisions.get(status=DecisionStatus.AWAITING_SIGNATURE)


def test_a_treasurer_never_approves_the_batch_they_created_through_the_api(world, as_role):
    app = world.run(
        world.to_approved(world.new_application("800")), "schedule_payout", world.treasurer2
    )
    created = as_role("treasurer").post(
        "/api/v1/payment-batches/", {"applications": [app.reference]}, format="json"
    )
    assert created.status_code == 201, created.json()
    message_id = created.json()["message_id"]

    response = as_role("treasurer").post(f"/api/v1/payment-batches/{message_id}/approve/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert PaymentBatch.objects.get().status == BatchStatus.DRAFT


def test_a_treasurer_who_scheduled_the_orders_never_approves_their_batch(world, as_role):
    app = world.run(
        world.to_approved(world.new_application("800")), "schedule_payout", world.treasurer2
    )
    created = as_role("treasurer").post(
        "/api/v1/payment-batches/", {"applications": [app.reference]}, format="json"
    )

    response = as_role("treasurer2").post(
        f"/api/v1/payment-batches/{created.json()['message_id']}/approve/"
    )

    assert response.status_code == 403
    assert PaymentBatch.objects.get().status == BatchStatus.DRAFT


def test_a_decision_maker_never_co_signs_their_own_decision(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)

    again = _step(as_role("decider"), app, "approve", {"decision": pending.pk})

    assert again.status_code in (400, 403), again.json()
    assert again.json()["code"] in ("permission_denied", "validation_failed")
    assert DecisionSignature.objects.filter(decision=pending).count() == 1
    assert Decision.objects.get(pk=pending.pk).status == DecisionStatus.AWAITING_SIGNATURE


def test_a_co_signature_without_naming_the_decision_signs_nothing_for_any_outcome(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)

    for name in ("approve", "approve_partly", "reject"):
        response = _step(as_role("decider2"), app, name)
        assert response.status_code == 400, (name, response.json())
    assert DecisionSignature.objects.filter(decision=pending).count() == 1


def test_an_old_pending_decision_id_does_not_sign_after_it_was_set_aside(world, as_role):
    app, old = _awaiting_second_signature(world, as_role)
    back = _step(as_role("officer"), app, "request_completion", {"message": "Kvitto saknas"})
    assert back.status_code == 200, back.json()
    assert Decision.objects.get(pk=old.pk).status == DecisionStatus.SUPERSEDED
    app.refresh_from_db()
    app = world.run(app, "resubmit", world.ombud.user)  # back where it was: decision
    new = _step(as_role("decider"), app, "approve")
    assert new.status_code == 200, new.json()

    stale = _step(as_role("decider2"), app, "approve", {"decision": old.pk})

    assert stale.status_code == 400
    assert DecisionSignature.objects.filter(decision=old).count() == 1
    pending = app.decisions.get(status=DecisionStatus.AWAITING_SIGNATURE)
    assert DecisionSignature.objects.filter(decision=pending).count() == 1


def test_a_co_signature_refuses_a_reason_it_would_not_keep(world, as_role):
    app, pending = _awaiting_second_signature(world, as_role)
    assert pending.reason != "need_not_shown"

    response = _step(
        as_role("decider2"), app, "approve", {"decision": pending.pk, "reason": "need_not_shown"}
    )

    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert DecisionSignature.objects.filter(decision=pending).count() == 1
