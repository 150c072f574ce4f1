"""Issue #19 (review): the co-signer signs exactly the decision they were shown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.exceptions import ValidationFailed
from workflows.models import Decision, DecisionStatus

pytestmark = pytest.mark.django_db


def _pending(world):  # type: ignore[no-untyped-def]
    world.fund.two_signature_threshold = Decimal("1000")
    world.fund.save()
    app = world.run(world.to_decision(world.new_application("1500")), "approve", world.decider)
    return app, Decision.objects.get(application=app, status=DecisionStatus.AWAITING_SIGNATURE)


def test_a_cosignature_names_the_decision_shown_and_takes_effect(world) -> None:  # type: ignore[no-untyped-def]
    app, shown = _pending(world)
    app = world.run(app, "approve", world.decider2, decision=shown.pk)
    shown.refresh_from_db()
    assert shown.status == DecisionStatus.EFFECTIVE and app.state == "approved"


def test_a_cosignature_of_a_decision_since_set_aside_decides_nothing(world) -> None:  # type: ignore[no-untyped-def]
    app, shown = _pending(world)
    Decision.objects.filter(pk=shown.pk).update(status=DecisionStatus.SUPERSEDED)
    with pytest.raises(ValidationFailed, match="changed since you opened the case"):
        world.run(app, "approve", world.decider2, decision=shown.pk)
    # Nothing was decided in the co-signer's name from the stale page.
    assert not Decision.objects.filter(application=app).exclude(pk=shown.pk).exists()


def test_a_komplettering_sets_a_half_signed_decision_aside(world) -> None:  # type: ignore[no-untyped-def]
    from audit.models import AuditEvent

    app, shown = _pending(world)
    app = world.run(app, "request_completion", world.officer, message="Kvitto saknas")
    shown.refresh_from_db()
    assert shown.status == DecisionStatus.SUPERSEDED
    event = AuditEvent.objects.filter(action="decision.set_aside").get()
    assert event.payload == {"decision": shown.pk, "reason": "completion_requested"}
    # The co-signer's page, read before, can no longer sign it.
    app = world.run(app, "resubmit", world.ombud.user)
    assert not Decision.objects.filter(
        application=app, status=DecisionStatus.AWAITING_SIGNATURE
    ).exists()
