"""Each guard refuses with a clear message and changes nothing."""

import pytest

from audit.models import AuditEvent
from core.exceptions import TransitionNotAvailable, ValidationFailed
from fund.models import OmbudStatus
from fund.states import State
from workflows import services


def _unchanged(app, state):
    app.refresh_from_db()
    assert app.state == state


def test_statutory_check_needs_the_ombuds_attestation(world):
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    with pytest.raises(TransitionNotAvailable, match="not possible"):
        world.run(app, "start_statutory_check", world.officer)
    _unchanged(app, State.AWAITING_OMBUD)


def test_attestation_needs_a_verified_ombud_and_a_confirmed_need(world):
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    with pytest.raises(ValidationFailed, match="Confirm that you have seen the need"):
        world.run(app, "attest", world.ombud.user, method="portal")
    world.ombud.status = OmbudStatus.PENDING
    world.ombud.save()
    with pytest.raises(ValidationFailed, match="verified ombud") as refused:
        world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    assert len(refused.value.messages) == 1
    _unchanged(app, State.AWAITING_OMBUD)
    assert not app.attestations.exists()


def test_attestation_at_an_unverified_organisation_is_refused(world):
    world.ombud.organisation.verified_at = None
    world.ombud.organisation.save()
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    with pytest.raises(ValidationFailed, match="verified organisation"):
        world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)


def test_every_item_must_be_assessed_before_clearing_or_deciding(world):
    app = world.to_statutory_check(world.new_application("500", "600"))
    services.record_statutory_assessment(
        app.items.first(), actor=world.officer, outcome="not_obliged"
    )
    with pytest.raises(ValidationFailed, match="Item 2 has no statutory assessment"):
        world.run(app, "clear", world.officer)
    _unchanged(app, State.STATUTORY_CHECK)


def test_obliged_assessment_needs_authority_and_legal_basis(world):
    app = world.to_statutory_check(world.new_application("500"))
    with pytest.raises(ValidationFailed) as refused:
        services.record_statutory_assessment(
            app.items.get(), actor=world.officer, outcome="obliged"
        )
    assert any("authority" in m for m in refused.value.messages)
    assert any("legal basis" in m for m in refused.value.messages)


def test_assessment_outside_the_statutory_check_is_refused(world):
    app = world.to_decision(world.new_application("500"))
    with pytest.raises(TransitionNotAvailable, match="statutory obligation check"):
        services.record_statutory_assessment(
            app.items.get(), actor=world.officer, outcome="obliged"
        )


def test_all_obliged_cannot_be_cleared(world):
    app = world.to_statutory_check(world.new_application("500"))
    world.assess_all(app, outcome="obliged", authority="migration_agency", legal_basis="lma_17")
    with pytest.raises(ValidationFailed, match="refer the case"):
        world.run(app, "clear", world.officer)


def test_fund_limit_per_item_is_checked_at_decision(world):
    app = world.to_decision(world.new_application("9000"))
    world.fund.max_per_item = "5000"
    world.fund.save()
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="limit of"):
        world.run(app, "approve", world.decider)
    _unchanged(app, State.READY_FOR_DECISION)
    assert AuditEvent.objects.count() == before
    assert not app.decisions.exists()


def test_limit_per_person_and_year_counts_earlier_grants(world):
    world.fund.max_per_person_year = "5000"
    world.fund.two_signature_threshold = None
    world.fund.save()
    first = world.to_approved(world.new_application("4000"))
    second = world.new_application("2000")
    second.beneficiary = first.beneficiary
    second.save()
    second = world.to_decision(second)
    with pytest.raises(ValidationFailed, match="yearly limit"):
        world.run(second, "approve", world.decider)
    item = second.items.get()
    second = world.run(
        second, "approve_partly", world.decider, items=[{"item": item.pk, "amount": "1000"}]
    )
    assert second.state == State.APPROVED


def test_geographic_scope_is_checked(world):
    world.fund.geographic_scope = ["AB"]
    world.fund.save()
    app = world.new_application("500", region="M")
    with pytest.raises(ValidationFailed, match="counties AB"):
        world.run(app, "submit", world.ombud.user)


def test_approve_with_a_reduced_item_must_be_approve_partly(world):
    app = world.to_decision(world.new_application("1000"))
    item = app.items.get()
    with pytest.raises(ValidationFailed, match="approve partly"):
        world.run(app, "approve", world.decider, items=[{"item": item.pk, "amount": "800"}])


def test_rejection_grants_nothing(world):
    app = world.to_decision(world.new_application("1000"))
    item = app.items.get()
    with pytest.raises(ValidationFailed, match="grants nothing"):
        world.run(app, "reject", world.decider, items=[{"item": item.pk, "amount": "800"}])
