"""Issue #13, defect 6: the per-person yearly limit holds across re-registration, pending
decisions and the co-signature; a known personnummer finds its person, for those who may see it.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import translation

from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from fund.models import Application, Beneficiary
from fund.states import State
from tests.factories import OmbudFactory
from workflows import services, step_inputs
from workflows.models import DecisionStatus
from workflows.services import NeedInput

NUMBER = "19811218-9876"


def _apply(world, person: Beneficiary, *amounts: str, ombud=None) -> Application:
    return services.create_application(
        actor=(ombud or world.ombud).user,
        fund=world.fund,
        beneficiary=person,
        items=[NeedInput(category="glasses", amount=a, description="behov") for a in amounts],
    )


def _to_decision(world, app: Application, ombud=None) -> Application:
    user = (ombud or world.ombud).user
    app = world.run(app, "submit", user)
    app = world.run(app, "request_attestation", world.officer)
    app = world.run(app, "attest", user, method="portal", need_confirmed=True)
    app = world.run(app, "start_statutory_check", world.officer)
    world.assess_all(app)
    return world.run(app, "clear", world.officer)


def _limit(world, per_person_year: str, threshold: str | None = None) -> None:
    world.fund.max_per_person_year = Decimal(per_person_year)
    world.fund.two_signature_threshold = Decimal(threshold) if threshold else None
    world.fund.save()


def test_reregistering_a_known_personnummer_finds_the_existing_person(world):
    first = services.register_beneficiary(
        actor=world.ombud.user, name="Amira Hassan", personal_number=NUMBER, region="AB"
    )
    _apply(world, first, "1000")

    again = services.register_beneficiary(
        actor=world.ombud.user,
        name="A. Hassan",
        personal_number="811218-9876",
        contact="070-1234567",
    )

    assert again.pk == first.pk
    assert Beneficiary.objects.count() == 1
    again.refresh_from_db()
    assert again.personal_data["name"] == "Amira Hassan"  # the existing record wins
    assert again.personal_data["contact"] == ""
    event = AuditEvent.objects.get(action="beneficiary.matched")
    assert event.object_ref == first.reference
    assert event.payload["ignored"] == ["contact", "name"]
    shown = json.dumps(event.payload)
    assert "Hassan" not in shown and "9876" not in shown and "070" not in shown


def test_person_unknown_to_the_actor_is_neither_revealed_nor_matched(world):
    first = services.register_beneficiary(
        actor=world.ombud.user, name="Amira Hassan", personal_number=NUMBER
    )
    _apply(world, first, "1000")
    stranger = OmbudFactory()

    twin = services.register_beneficiary(
        actor=stranger.user, name="Amira H", personal_number=NUMBER
    )

    assert twin.pk != first.pk
    assert twin.personal_data["name"] == "Amira H"
    assert twin.personnummer_index == first.personnummer_index
    assert not AuditEvent.objects.filter(action="beneficiary.matched").exists()


def test_protected_person_is_matched_only_for_officers_given_access(world):
    from fund.protected_access import grant_protected_access

    first = services.register_beneficiary(
        actor=world.ombud.user,
        name="Skyddad Person",
        personal_number=NUMBER,
        protected_identity=True,
    )
    app = world.run(_apply(world, first, "1000"), "submit", world.ombud.user)
    world.run(app, "request_attestation", world.officer)  # assigned: that opens nothing
    assigned_only = services.register_beneficiary(
        actor=world.officer, name="Skyddad Person", personal_number=NUMBER
    )
    assert assigned_only.pk != first.pk
    grant_protected_access(app, actor=world.decider, grantee=world.officer, reason="case_handling")

    for_other_officer = services.register_beneficiary(
        actor=world.officer2, name="Skyddad Person", personal_number=NUMBER
    )
    for_named_officer = services.register_beneficiary(
        actor=world.officer, name="Skyddad Person", personal_number=NUMBER
    )

    assert for_other_officer.pk != first.pk
    assert for_named_officer.pk == first.pk


def test_twin_record_cannot_reset_the_yearly_limit(world):
    _limit(world, "5000")
    first = services.register_beneficiary(
        actor=world.ombud.user, name="Amira Hassan", personal_number=NUMBER
    )
    world.run(_to_decision(world, _apply(world, first, "4000")), "approve", world.decider)
    stranger = OmbudFactory()
    twin = services.register_beneficiary(
        actor=stranger.user, name="Amira H", personal_number=NUMBER
    )
    second = _to_decision(world, _apply(world, twin, "2000", ombud=stranger), ombud=stranger)

    with pytest.raises(ValidationFailed, match="yearly limit"):
        world.run(second, "approve", world.decider)


def test_yearly_limit_counts_the_same_personnummer_in_the_same_fund_only(world):
    _limit(world, "5000")
    first = services.register_beneficiary(
        actor=world.ombud.user, name="Amira Hassan", personal_number=NUMBER
    )
    world.run(_to_decision(world, _apply(world, first, "4000")), "approve", world.decider)
    someone_else = services.register_beneficiary(
        actor=world.ombud.user, name="Annan Person", personal_number="19121212-1212"
    )
    other = _to_decision(world, _apply(world, someone_else, "4000"))

    assert world.run(other, "approve", world.decider).state == State.APPROVED


def test_decisions_awaiting_a_second_signature_count_against_the_yearly_limit(world):
    _limit(world, "15000", threshold="10000")
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Amira", personal_number=NUMBER
    )
    first = world.run(_to_decision(world, _apply(world, person, "12000")), "approve", world.decider)
    assert first.decisions.get().status == DecisionStatus.AWAITING_SIGNATURE
    second = _to_decision(world, _apply(world, person, "5000"))

    with pytest.raises(ValidationFailed, match="yearly limit"):
        world.run(second, "approve", world.decider2)


def test_co_signature_checks_the_yearly_limit_again(world):
    _limit(world, "60000", threshold="10000")
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Amira", personal_number=NUMBER
    )
    app = world.run(_to_decision(world, _apply(world, person, "12000")), "approve", world.decider)
    _limit(world, "11000", threshold="10000")

    with pytest.raises(ValidationFailed, match="yearly limit"):
        world.run(app, "approve", world.decider2)
    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert app.decisions.get().status == DecisionStatus.AWAITING_SIGNATURE


def test_a_pending_decision_over_the_limit_can_be_decided_again(world):
    _limit(world, "60000", threshold="10000")
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Amira", personal_number=NUMBER
    )
    app = world.run(_to_decision(world, _apply(world, person, "12000")), "approve", world.decider)
    _limit(world, "11000", threshold="10000")
    item = app.items.get()

    app = world.run(
        app, "approve_partly", world.decider2, items=[{"item": item.pk, "amount": "10000"}]
    )

    assert app.state == State.APPROVED
    statuses = sorted(app.decisions.values_list("status", flat=True))
    assert statuses == [DecisionStatus.EFFECTIVE, DecisionStatus.SUPERSEDED]


def test_a_pending_decision_within_the_limit_is_still_co_signed_as_it_is(world):
    _limit(world, "60000", threshold="10000")
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Amira", personal_number=NUMBER
    )
    app = world.run(_to_decision(world, _apply(world, person, "12000")), "approve", world.decider)
    item = app.items.get()

    with pytest.raises(ValidationFailed, match="co-sign it as it is"):
        world.run(
            app, "approve_partly", world.decider2, items=[{"item": item.pk, "amount": "9000"}]
        )


def _race_approvals(attempts):
    """Each (application pk, actor) approves in its own thread, all at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[object] = [None] * len(attempts)

    def worker(index, app_pk, actor):
        try:
            app = Application.objects.get(pk=app_pk)
            barrier.wait(timeout=10)
            with translation.override("en"):
                services.transition(app, actor=actor, step=step_inputs.parse("approve"))
            outcomes[index] = "ok"
        except Exception as exc:  # recorded and asserted below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, *a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_decisions_for_one_person_cannot_both_fit_the_yearly_limit(world, attempt):
    _limit(world, "15000")
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Amira", personal_number=NUMBER
    )
    first = _to_decision(world, _apply(world, person, "10000"))
    second = _to_decision(world, _apply(world, person, "10000"))

    outcomes = _race_approvals([(first.pk, world.decider), (second.pk, world.decider2)])

    assert outcomes.count("ok") == 1, outcomes
    [refusal] = [o for o in outcomes if o != "ok"]
    assert isinstance(refusal, ValidationFailed), refusal
    assert "yearly limit" in str(refusal)
    states = sorted(
        Application.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)
    )
    assert states == [State.APPROVED, State.READY_FOR_DECISION]
