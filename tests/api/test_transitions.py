"""Running the workflow through the API: what you may do, and every way it can say no."""

from __future__ import annotations

import pytest

from fund.models import Application

pytestmark = pytest.mark.django_db


def _url(app, name=""):
    base = f"/api/v1/applications/{app.reference}/transitions/"
    return f"{base}{name}/" if name else base


def test_lists_what_the_caller_may_do_now(world, as_role):
    app = world.new_application("1000")

    ombud = as_role("ombud").get(_url(app)).json()
    officer = as_role("officer").get(_url(app)).json()
    decider = as_role("decider").get(_url(app)).json()

    assert ombud == {
        "reference": app.reference,
        "state": "draft",
        "transitions": ["submit", "withdraw"],
    }
    assert officer["transitions"] == ["submit", "withdraw"]
    assert decider["transitions"] == []


def test_the_whole_case_through_the_api(world, as_role):
    app = world.new_application("1500")
    ombud, officer, decider = as_role("ombud"), as_role("officer"), as_role("decider")

    assert ombud.post(_url(app, "submit"), {}, format="json").status_code == 200
    assert officer.post(_url(app, "request_attestation"), {}, format="json").status_code == 200
    attested = ombud.post(
        _url(app, "attest"), {"method": "portal", "need_confirmed": True}, format="json"
    )
    assert attested.json()["state"] == "ombud_verified"
    officer.post(_url(app, "start_statutory_check"), {}, format="json")
    officer.post(
        f"/api/v1/applications/{app.reference}/items/1/assessment/",
        {"outcome": "not_obliged"},
        format="json",
    )
    assert (
        officer.post(_url(app, "clear"), {}, format="json").json()["state"] == "ready_for_decision"
    )
    decided = decider.post(
        _url(app, "approve_partly"),
        {"items": [{"item": 1, "amount": "1000", "reason": "reduced_to_limit"}]},
        format="json",
    )

    assert decided.status_code == 200, decided.json()
    assert decided.json()["state"] == "approved"
    assert decided.json()["items"][0]["approved_amount"] == {"amount": "1000.00", "currency": "SEK"}
    assert decided.json()["total_approved"] == {"amount": "1000.00", "currency": "SEK"}


def test_a_step_the_role_may_not_take_is_403(world, as_role):
    app = world.run(world.new_application("1000"), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)

    response = as_role("officer").post(_url(app, "attest"), {"need_confirmed": True}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert app.reference in response.json()["messages"][0]


def test_segregation_of_duties_is_403_with_the_reason(world, as_role, client_for):
    app = world.to_statutory_check(world.new_application("1000"))
    world.assess_all(app)
    world.run(app, "clear", world.officer)
    world.fund.handlers.add(world.officer)  # already there; the preparer is also a decider:
    from django.contrib.auth.models import Group

    world.officer.groups.add(Group.objects.get_or_create(name="decision_maker")[0])

    response = client_for(world.officer).post(_url(app, "approve"), {}, format="json")

    assert response.status_code == 403
    assert "another decision-maker" in response.json()["detail"]


def test_missing_input_is_400_with_every_message(world, as_role):
    app = world.run(world.new_application("1000"), "submit", world.ombud.user)
    world.run(app, "request_attestation", world.officer)

    response = as_role("ombud").post(_url(app, "attest"), {"method": "portal"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert any("Confirm" in m for m in response.json()["messages"])


def test_a_step_not_possible_in_this_state_is_400(world, as_role):
    app = world.new_application("1000")

    response = as_role("officer").post(_url(app, "clear"), {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "transition_not_available"


def test_an_unknown_position_is_a_field_error(world, as_role):
    app = world.to_decision(world.new_application("1000"))

    response = as_role("decider").post(
        _url(app, "approve_partly"), {"items": [{"item": 7, "amount": "1"}]}, format="json"
    )

    assert response.status_code == 400
    assert "items" in response.json()["fields"]


def test_a_concurrent_change_is_409(world, as_role, monkeypatch):
    app = world.new_application("1000")
    stale = Application.objects.get(pk=app.pk)  # what the caller loaded: a draft
    world.run(app, "submit", world.ombud.user)  # meanwhile someone submitted it
    monkeypatch.setattr(
        "api.views.transitions.application_in_scope", lambda request, reference: stale
    )

    response = as_role("officer").post(
        _url(app, "withdraw"), {"reason": "duplicate"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Application.objects.get(pk=app.pk).state == "submitted"


def test_payout_is_scheduled_to_a_payee_named_by_reference(world, as_role):
    from accounting.models import Payee

    app = world.to_approved(world.new_application("1000"))
    payee = Payee.objects.get()

    response = as_role("treasurer").post(
        _url(app, "schedule_payout"), {"payee": payee.reference}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "payout_scheduled"
