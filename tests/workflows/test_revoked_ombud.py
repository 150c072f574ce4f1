"""Issue #13, defect 8: revoking an ombud ends their case scope at once.

From the moment of revocation the ombud reads no personal data and runs no step on their cases,
in the services, on the pages and in the API. Their open cases are listed for officers, who
hand each to another verified ombud (``reassign_ombud``, audited as ``application.ombud_changed``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from fund import privacy
from fund.models import Application, Ombud, OmbudStatus
from fund.services import set_ombud_status
from reminders.models import Reminder
from reminders.services import create_reminders
from tests.factories import OmbudFactory, OrganisationFactory
from tests.fixtures import World
from tests.signin import api_client, sign_in
from web.selectors import WorklistQuery, worklist
from workflows import services, step_inputs
from workflows.assignment import reassign_ombud

NAME = "Rut Revokesson"


def revoke(world: World) -> None:
    """Revoke world.ombud as the admin would, from a fresh row (as another request would)."""
    set_ombud_status(
        Ombud.objects.get(pk=world.ombud.pk), actor=world.admin, status=OmbudStatus.REVOKED
    )


@pytest.fixture
def cases(world: World) -> dict[str, Application]:
    """world.ombud's cases in the states an ombud acts in."""
    draft = world.new_application("400", name=NAME)
    awaiting = world.run(
        world.run(world.new_application("500", name=NAME), "submit", world.ombud.user),
        "request_attestation",
        world.officer,
    )
    completion = world.run(
        world.run(world.new_application("600", name=NAME), "submit", world.ombud.user),
        "request_completion",
        world.officer,
        message="Kvitto saknas",
    )
    return {"draft": draft, "awaiting": awaiting, "completion": completion}


def test_revoked_ombud_loses_case_scope_at_once(
    world: World, cases: dict[str, Application]
) -> None:
    user = world.ombud.user
    steps = {
        "draft": [("submit", {}), ("withdraw", {"reason": "need_met_elsewhere"})],
        "awaiting": [("attest", {"method": "portal", "need_confirmed": True})],
        "completion": [("resubmit", {}), ("withdraw", {"reason": "need_met_elsewhere"})],
    }
    for app in cases.values():
        assert services.available_transitions(app, actor=user), "before: the ombud may act"
    revoke(world)
    for key, app in cases.items():
        with pytest.raises(PermissionDenied):
            privacy.read_personal_data(app.beneficiary, actor=user, application=app)
        assert services.available_transitions(app, actor=user) == []
        for name, data in steps[key]:
            with pytest.raises(PermissionDenied):
                services.transition(app, actor=user, step=step_inputs.parse(name, data))
    assert [a.state for a in Application.objects.order_by("pk")] == [
        "draft",
        "awaiting_ombud",
        "needs_completion",
    ]
    assert not AuditEvent.objects.filter(action="personal_data.viewed", actor_id=user.pk).exists()


def test_revoked_ombud_sees_nothing_on_the_pages(
    world: World, cases: dict[str, Application]
) -> None:
    client = sign_in(Client(), world.ombud.user)
    assert cases["draft"].reference in client.get(reverse("web:ombud_home")).content.decode()
    revoke(world)
    home = client.get(reverse("web:ombud_home")).content.decode()
    for app in cases.values():
        assert app.reference not in home
        for url in (
            reverse("web:application", args=[app.reference]),
            reverse("web:application_person", args=[app.reference]),
        ):
            response = client.get(url)
            assert response.status_code == 404
            assert NAME not in response.content.decode()
    response = client.post(
        reverse("web:application_transition", args=[cases["draft"].reference, "submit"])
    )
    assert response.status_code == 404
    cases["draft"].refresh_from_db()
    assert cases["draft"].state == "draft"


def test_revoked_ombud_gets_404_from_the_api(world: World, cases: dict[str, Application]) -> None:
    api = api_client(world.ombud.user)
    assert api.get("/api/v1/applications/").json()["count"] == 3
    revoke(world)
    assert api.get("/api/v1/applications/").json()["count"] == 0
    ref = cases["awaiting"].reference
    for url in (
        f"/api/v1/applications/{ref}/",
        f"/api/v1/applications/{ref}/person/",
        f"/api/v1/applications/{ref}/transitions/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert NAME not in response.content.decode()
    response = api.post(
        f"/api/v1/applications/{ref}/transitions/attest/",
        {"method": "portal", "need_confirmed": True},
        format="json",
    )
    assert response.status_code == 404
    cases["awaiting"].refresh_from_db()
    assert cases["awaiting"].state == "awaiting_ombud"


def test_revoked_ombuds_open_cases_are_listed_for_officers(
    world: World, cases: dict[str, Application]
) -> None:
    other = world.run(world.new_application("700"), "submit", world.ombud.user)
    finished = world.run(
        world.new_application("800"), "withdraw", world.ombud.user, reason="need_met_elsewhere"
    )
    someone_else = OmbudFactory()
    theirs = services.create_application(
        actor=someone_else.user,
        fund=world.fund,
        beneficiary=services.register_beneficiary(actor=someone_else.user, name="X"),
        items=[services.NeedInput(category="glasses", amount="100")],
    )
    assert worklist(world.officer, WorklistQuery(ombud_revoked=True)).object_list == []
    revoke(world)
    listed = {a.reference for a in worklist(world.officer, WorklistQuery(ombud_revoked=True))}
    assert listed == {*(a.reference for a in cases.values()), other.reference}
    assert finished.reference not in listed and theirs.reference not in listed
    page = sign_in(Client(), world.officer).get(reverse("web:worklist"), {"ombud_revoked": "on"})
    html = page.content.decode()
    assert cases["awaiting"].reference in html and theirs.reference not in html


def test_an_officer_hands_a_case_to_another_verified_ombud_who_then_attests(
    world: World, cases: dict[str, Application]
) -> None:
    app = cases["awaiting"]
    revoke(world)
    successor = OmbudFactory()
    app = reassign_ombud(app, actor=world.officer, ombud=successor)
    assert app.ombud_id == successor.pk
    event = AuditEvent.objects.get(action="application.ombud_changed")
    assert event.object_ref == app.reference and event.actor_id == world.officer.pk
    assert event.payload == {"ombud": successor.pk, "previous": world.ombud.pk}
    assert (
        privacy.read_personal_data(app.beneficiary, actor=successor.user, application=app)["name"]
        == NAME
    )
    app = world.run(app, "attest", successor.user, method="portal", need_confirmed=True)
    assert app.state == "ombud_verified"
    assert app.attestations.get().ombud_id == successor.pk
    html = sign_in(Client(), successor.user).get(reverse("web:ombud_home")).content.decode()
    assert app.reference in html


def test_a_case_is_handed_only_from_a_revoked_ombud_to_a_verified_one(
    world: World, cases: dict[str, Application]
) -> None:
    app = cases["draft"]
    successor = OmbudFactory()
    with pytest.raises(ValidationFailed, match="revoked"):
        reassign_ombud(app, actor=world.officer, ombud=successor)
    revoke(world)
    pending = OmbudFactory(status=OmbudStatus.PENDING)
    unverified_org = OmbudFactory(organisation=OrganisationFactory(verified_at=None))
    for unfit in (pending, unverified_org, Ombud.objects.get(pk=world.ombud.pk)):
        with pytest.raises(ValidationFailed, match="verified ombud"):
            reassign_ombud(app, actor=world.officer, ombud=unfit)
    for not_allowed in (world.decider, world.treasurer, successor.user):
        with pytest.raises(PermissionDenied):
            reassign_ombud(app, actor=not_allowed, ombud=successor)
    assert not AuditEvent.objects.filter(action="application.ombud_changed").exists()


def test_an_officer_hands_the_case_over_on_the_application_page(
    world: World, cases: dict[str, Application]
) -> None:
    app = cases["completion"]
    revoke(world)
    successor = OmbudFactory()
    officer = sign_in(Client(), world.officer)
    html = officer.get(reverse("web:application", args=[app.reference])).content.decode()
    assert "registration is revoked" in html
    response = officer.post(
        reverse("web:application_reassign_ombud", args=[app.reference]),
        {"ombud": successor.pk},
        follow=True,
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.ombud_id == successor.pk
    app = world.run(app, "resubmit", successor.user)
    assert app.state == "submitted"


def test_revoked_ombud_gets_no_reminders_and_the_old_ones_are_hidden(
    world: World, cases: dict[str, Application]
) -> None:
    app = cases["awaiting"]
    Application.objects.filter(pk=app.pk).update(
        state_changed_at=timezone.now() - timedelta(days=30)
    )
    create_reminders()
    api = api_client(world.ombud.user)
    assert [r["application"] for r in api.get("/api/v1/reminders/").json()["results"]] == [
        app.reference
    ]
    revoke(world)
    assert api.get("/api/v1/reminders/").json()["results"] == []
    Reminder.objects.all().delete()
    assert create_reminders() == []
