"""Issue #13, defect 7: access to a protected identity is given by a decision-maker, never taken.

Being assigned to a case, or having prepared it, no longer shows a protected person: only the
case's ombud and holders of an active grant (given by another person, a decision-maker in the
fund, with a reason code) see them. Grants and revocations are audit events on the case.
"""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from fund import privacy
from fund.models import Application, ProtectedAccessReason, ProtectedIdentityGrant
from fund.protected_access import (
    active_grants,
    grant_protected_access,
    revoke_protected_access,
)
from tests.factories import UserFactory
from tests.fixtures import World
from tests.signin import api_client
from workflows import services
from workflows.assignment import assign_officer
from workflows.decision_trail import decision_trail

NAME = "Skyddad Svensson"


@pytest.fixture
def protected_case(world: World) -> Application:
    """A submitted case of a person with protected identity."""
    person = services.register_beneficiary(
        actor=world.ombud.user, name=NAME, protected_identity=True
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500", description="behov")],
    )
    return world.run(app, "submit", world.ombud.user)


def _views(actor: object) -> int:
    return AuditEvent.objects.filter(action="personal_data.viewed", actor_id=actor.pk).count()  # type: ignore[attr-defined]


def test_an_officer_who_assigns_a_protected_case_to_themselves_still_cannot_read_it(
    world: World, protected_case: Application
) -> None:
    app = assign_officer(protected_case, actor=world.officer2, officer=world.officer2)
    assert app.assigned_officer_id == world.officer2.pk
    with pytest.raises(PermissionDenied, match="protected identity"):
        privacy.read_personal_data(app.beneficiary, actor=world.officer2, application=app)
    assert _views(world.officer2) == 0


def test_preparing_a_protected_case_does_not_open_it(
    world: World, protected_case: Application
) -> None:
    app = world.run(protected_case, "request_attestation", world.officer)
    app = world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    app = world.run(app, "start_statutory_check", world.officer)
    assert app.prepared_by_id == app.assigned_officer_id == world.officer.pk
    with pytest.raises(PermissionDenied, match="protected identity"):
        privacy.read_personal_data(app.beneficiary, actor=world.officer, application=app)
    assert (
        privacy.read_personal_data(app.beneficiary, actor=world.ombud.user, application=app)["name"]
        == NAME
    ), "the case's ombud still sees the person"


def test_a_grant_by_a_decision_maker_opens_the_person_and_every_read_is_logged(
    world: World, protected_case: Application
) -> None:
    app = protected_case
    grant = grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.CASE_HANDLING
    )
    assert grant.granted_by_id == world.decider.pk and grant.revoked_at is None
    for _look in range(2):
        values = privacy.read_personal_data(app.beneficiary, actor=world.officer, application=app)
        assert values["name"] == NAME
    assert _views(world.officer) == 2
    with pytest.raises(PermissionDenied, match="protected identity"):
        privacy.read_personal_data(app.beneficiary, actor=world.officer2, application=app)
    assert list(active_grants(app)) == [grant]


def test_a_decision_maker_cannot_grant_access_to_themselves(
    world: World, protected_case: Application
) -> None:
    with pytest.raises(PermissionDenied, match="another decision-maker"):
        grant_protected_access(
            protected_case,
            actor=world.decider,
            grantee=world.decider,
            reason=ProtectedAccessReason.DECISION,
        )
    assert not ProtectedIdentityGrant.objects.exists()


def test_the_database_refuses_a_grant_to_oneself(world: World, protected_case: Application) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtectedIdentityGrant.objects.create(
            application=protected_case,
            grantee=world.decider,
            granted_by=world.decider,
            reason=ProtectedAccessReason.DECISION,
        )


def test_only_a_decision_maker_working_in_the_fund_may_grant(
    world: World, protected_case: Application
) -> None:
    outsider = UserFactory(roles=["decision_maker"])
    for actor in (world.officer, world.officer2, world.admin, world.auditor, outsider):
        with pytest.raises(PermissionDenied, match="decision-maker working in this fund"):
            grant_protected_access(
                protected_case,
                actor=actor,
                grantee=world.officer2 if actor != world.officer2 else world.officer,
                reason=ProtectedAccessReason.CASE_HANDLING,
            )
    assert not ProtectedIdentityGrant.objects.exists()


def test_the_grantee_must_be_an_officer_or_decision_maker_in_the_fund(
    world: World, protected_case: Application
) -> None:
    outsider = UserFactory(roles=["officer"])
    for grantee in (outsider, world.treasurer, world.ombud.user):
        with pytest.raises(ValidationFailed, match="officer or decision-maker in"):
            grant_protected_access(
                protected_case,
                actor=world.decider,
                grantee=grantee,
                reason=ProtectedAccessReason.CASE_HANDLING,
            )
    grant_protected_access(
        protected_case,
        actor=world.decider,
        grantee=world.decider2,
        reason=ProtectedAccessReason.DECISION,
    )


def test_a_grant_needs_a_reason_from_the_list(world: World, protected_case: Application) -> None:
    with pytest.raises(ValidationFailed, match="reason"):
        grant_protected_access(
            protected_case, actor=world.decider, grantee=world.officer, reason="because I say so"
        )


def test_a_revoked_grant_closes_access_at_once(world: World, protected_case: Application) -> None:
    app = protected_case
    grant = grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.CASE_HANDLING
    )
    privacy.read_personal_data(app.beneficiary, actor=world.officer, application=app)
    revoke_protected_access(grant, actor=world.decider2)
    grant.refresh_from_db()
    assert grant.revoked_by_id == world.decider2.pk and grant.revoked_at is not None
    with pytest.raises(PermissionDenied, match="protected identity"):
        privacy.read_personal_data(app.beneficiary, actor=world.officer, application=app)
    assert not active_grants(app).exists()
    with pytest.raises(ValidationFailed, match="already revoked"):
        revoke_protected_access(grant, actor=world.decider)


def test_only_a_decision_maker_in_the_fund_may_revoke(
    world: World, protected_case: Application
) -> None:
    grant = grant_protected_access(
        protected_case,
        actor=world.decider,
        grantee=world.officer,
        reason=ProtectedAccessReason.CASE_HANDLING,
    )
    for actor in (world.officer, world.officer2, UserFactory(roles=["decision_maker"])):
        with pytest.raises(PermissionDenied):
            revoke_protected_access(grant, actor=actor)
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_a_person_without_protected_identity_needs_no_grant(world: World) -> None:
    app = world.new_application("500")
    with pytest.raises(ValidationFailed, match="no protected identity"):
        grant_protected_access(
            app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.DECISION
        )


def test_grants_and_revocations_are_audited_with_codes_only_and_on_the_trail(
    world: World, protected_case: Application
) -> None:
    app = protected_case
    grant = grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.COVER
    )
    revoke_protected_access(grant, actor=world.decider)
    events = list(
        AuditEvent.objects.filter(action__startswith="privacy.access_").order_by("sequence")
    )
    assert [(e.action, e.actor_id, e.object_ref) for e in events] == [
        ("privacy.access_granted", world.decider.pk, app.reference),
        ("privacy.access_revoked", world.decider.pk, app.reference),
    ]
    assert events[0].payload == {
        "grant": grant.pk,
        "grantee": world.officer.pk,
        "reason": "cover",
    }
    assert events[1].payload == {"grant": grant.pk, "grantee": world.officer.pk}
    assert NAME not in json.dumps([e.payload for e in events])
    trail = {row.action: row for row in decision_trail(app)}
    granted = trail["Access to a protected identity granted"]
    assert world.officer.get_full_name() in granted.summary
    # The reason shows by its label (issue #19: no raw codes on the timeline).
    assert "Covers for the case's handler while they are away" in granted.summary
    assert "Access to a protected identity revoked" in trail


def test_the_api_shows_a_protected_person_only_under_a_grant(
    world: World, protected_case: Application
) -> None:
    app = assign_officer(protected_case, actor=world.officer2, officer=world.officer2)
    url = f"/api/v1/applications/{app.reference}/person/"
    response = api_client(world.officer2).get(url)
    assert response.status_code == 403
    assert NAME not in response.content.decode() and "behov" not in response.content.decode()
    grant_protected_access(
        app, actor=world.decider, grantee=world.officer2, reason=ProtectedAccessReason.PAYMENT
    )
    response = api_client(world.officer2).get(url)
    assert response.status_code == 200
    assert response.json()["name"] == NAME
    assert _views(world.officer2) == 1


# --- Found by the adversarial review: other doors to a protected person ---------------------

REVIEW_PNR = "19811218-9876"


def _protected_case_of(world: World) -> Application:
    person = services.register_beneficiary(
        actor=world.ombud.user,
        name="Skyddad Svensson",
        personal_number=REVIEW_PNR,
        protected_identity=True,
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500", description="behov")],
    )
    return world.run(app, "submit", world.ombud.user)


def test_an_officer_without_a_grant_cannot_open_a_protected_person_to_an_ombud_of_choice(
    world: World,
) -> None:
    from tests.factories import OmbudFactory

    person = _protected_case_of(world).beneficiary
    with pytest.raises(PermissionDenied, match="protected identity"):
        services.create_application(
            actor=world.officer2,
            fund=world.fund,
            beneficiary=person,
            ombud=OmbudFactory(),
            items=[services.NeedInput(category="glasses", amount="500", description="x")],
        )
    assert person.applications.count() == 1


def test_an_officer_with_a_grant_applies_again_only_through_the_persons_own_ombud(
    world: World,
) -> None:
    from tests.factories import OmbudFactory

    case = _protected_case_of(world)
    grant_protected_access(case, actor=world.decider, grantee=world.officer2, reason="decision")
    items = [services.NeedInput(category="glasses", amount="500", description="x")]
    with pytest.raises(PermissionDenied, match="keeps the ombud"):
        services.create_application(
            actor=world.officer2,
            fund=world.fund,
            beneficiary=case.beneficiary,
            ombud=OmbudFactory(),
            items=items,
        )
    again = services.create_application(
        actor=world.officer2,
        fund=world.fund,
        beneficiary=case.beneficiary,
        ombud=world.ombud,
        items=items,
    )
    assert again.ombud == world.ombud


def test_the_api_does_not_open_a_protected_person_to_another_ombud(world: World) -> None:
    from tests.factories import OmbudFactory

    case = _protected_case_of(world)
    other = OmbudFactory()
    response = api_client(world.officer2).post(
        "/api/v1/applications/",
        {
            "fund": world.fund.code,
            "beneficiary": case.beneficiary.reference,
            "ombud": other.pk,
            "items": [{"category": "glasses", "amount": "500", "description": "x"}],
        },
        format="json",
    )
    assert response.status_code in (403, 404), response.content
    assert not Application.objects.filter(ombud=other).exists()


def test_a_twin_registration_of_a_protected_personnummer_is_protected_too(world: World) -> None:
    from tests.factories import OmbudFactory

    case = _protected_case_of(world)
    other = OmbudFactory()
    twin = services.register_beneficiary(
        actor=other.user, name="S. Svensson", personal_number=REVIEW_PNR
    )
    assert twin.pk != case.beneficiary_id and twin.protected_identity
    app = services.create_application(
        actor=other.user,
        fund=world.fund,
        beneficiary=twin,
        items=[services.NeedInput(category="glasses", amount="500", description="x")],
    )
    with pytest.raises(PermissionDenied, match="protected identity"):
        privacy.read_personal_data(twin, actor=world.officer2, application=app)


def test_only_a_decision_maker_hands_a_protected_case_to_another_ombud(world: World) -> None:
    from fund.models import OmbudStatus
    from fund.services import set_ombud_status
    from tests.factories import OmbudFactory
    from workflows.assignment import reassign_ombud

    case = _protected_case_of(world)
    set_ombud_status(world.ombud, actor=world.admin, status=OmbudStatus.REVOKED)
    chosen = OmbudFactory()
    with pytest.raises(PermissionDenied, match="only a decision-maker"):
        reassign_ombud(case, actor=world.officer2, ombud=chosen)
    app = reassign_ombud(case, actor=world.decider, ombud=chosen)
    assert app.ombud == chosen
