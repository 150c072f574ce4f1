"""Segregation of duties: who prepared, decided or paid may not also do the next step."""

import pytest

from core.exceptions import PermissionDenied
from fund.models import Fund
from fund.states import State
from tests.factories import UserFactory
from workflows import services
from workflows.models import DecisionStatus


def test_preparer_cannot_decide_own_case(world):
    both = UserFactory(roles=["officer", "decision_maker"])
    world.fund.handlers.add(both)
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", both)
    app = world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    app = world.run(app, "start_statutory_check", both)
    for item in app.items.all():
        services.record_statutory_assessment(item, actor=both, outcome="not_obliged")
    app = world.run(app, "clear", both)
    assert "approve" not in services.available_transitions(app, actor=both)
    with pytest.raises(PermissionDenied, match="You prepared this case"):
        world.run(app, "approve", both)
    assert app.state == State.READY_FOR_DECISION
    assert world.run(app, "approve", world.decider).state == State.APPROVED


def test_an_officer_who_assessed_an_item_cannot_decide(world):
    both = UserFactory(roles=["officer", "decision_maker"])
    world.fund.handlers.add(both)
    app = world.to_statutory_check(world.new_application("500"))
    services.record_statutory_assessment(app.items.get(), actor=both, outcome="not_obliged")
    app = world.run(app, "clear", world.officer)
    with pytest.raises(PermissionDenied, match="You prepared this case"):
        world.run(app, "approve", both)


def test_above_threshold_two_decision_makers_must_sign(world):
    app = world.to_decision(world.new_application("8000", "4000"))  # 12 000 > 10 000
    app = world.run(app, "approve", world.decider)
    assert app.state == State.READY_FOR_DECISION
    decision = app.decisions.get()
    assert decision.status == DecisionStatus.AWAITING_SIGNATURE
    assert "approve" not in services.available_transitions(app, actor=world.decider)
    with pytest.raises(PermissionDenied, match="already signed"):
        world.run(app, "approve", world.decider)
    app = world.run(app, "approve", world.decider2)
    assert app.state == State.APPROVED
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.EFFECTIVE
    assert decision.signer_ids() == {world.decider.pk, world.decider2.pk}


def test_co_signer_cannot_change_the_pending_decision(world):
    app = world.to_decision(world.new_application("8000", "4000"))
    app = world.run(app, "approve", world.decider)
    with pytest.raises(Exception, match="co-sign it as it is"):
        world.run(app, "reject", world.decider2)


def test_below_threshold_one_signature_is_enough(world):
    app = world.to_decision(world.new_application("9999"))
    assert world.run(app, "approve", world.decider).state == State.APPROVED


def test_decider_cannot_confirm_the_payout(world):
    decider_treasurer = UserFactory(roles=["decision_maker", "treasurer"])
    world.fund.handlers.add(decider_treasurer)
    app = world.to_decision(world.new_application("500"))
    app = world.run(app, "approve", decider_treasurer)
    app = world.run(app, "schedule_payout", decider_treasurer)
    world.send_payouts(app)
    assert "confirm_paid" not in services.available_transitions(app, actor=decider_treasurer)
    with pytest.raises(PermissionDenied, match="another treasurer"):
        world.run(app, "confirm_paid", decider_treasurer)
    assert world.run(app, "confirm_paid", world.treasurer).state == State.PAID


def test_reconsideration_only_by_another_decision_maker(world):
    app = world.to_decision(world.new_application("500"))
    app = world.run(app, "reject", world.decider, reason="outside_purpose")
    with pytest.raises(PermissionDenied, match="did not make the decision"):
        world.run(app, "reconsider", world.decider)
    app = world.run(app, "reconsider", world.decider2)
    with pytest.raises(PermissionDenied, match="did not make the decision"):
        world.run(app, "approve", world.decider)


def test_roles_are_required_for_each_step(world):
    app = world.new_application("500")
    with pytest.raises(PermissionDenied):
        world.run(app, "submit", world.treasurer)
    app = world.run(app, "submit", world.ombud.user)
    for outsider in (world.ombud.user, world.decider, world.treasurer, world.auditor, world.admin):
        with pytest.raises(PermissionDenied, match="You may not run"):
            world.run(app, "request_attestation", outsider)


def test_ombud_acts_only_on_own_cases(world):
    from tests.factories import OmbudFactory

    other = OmbudFactory()
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    with pytest.raises(PermissionDenied):
        world.run(app, "attest", other.user, method="portal", need_confirmed=True)
    assert services.available_transitions(app, actor=other.user) == []


def test_officer_acts_only_in_funds_they_work_in(world):
    outsider = UserFactory(roles=["officer"])
    Fund.objects.exclude(pk=world.fund.pk).delete()
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    with pytest.raises(PermissionDenied):
        world.run(app, "request_attestation", outsider)


def test_inactive_user_has_no_roles(world):
    world.officer.is_active = False
    world.officer.save()
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    with pytest.raises(PermissionDenied):
        world.run(app, "request_attestation", world.officer)
