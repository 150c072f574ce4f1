"""POST /api/v1/applications/ with ``ombud`` tells a caller nothing about which ombud ids
exist: an id that does not exist and one the caller may not use answer alike."""

from __future__ import annotations

import json

import pytest

from fund.models import Application, Beneficiary, OmbudStatus
from tests.factories import OmbudFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

CASE = {
    "fund": "allmant",
    "person": {"name": "Amira Hassan", "region": "AB"},
    "items": [{"category": "glasses", "amount": "1500.00"}],
}


def _answer(client, ombud_id):
    response = client.post("/api/v1/applications/", {**CASE, "ombud": ombud_id}, format="json")
    return response.status_code, response.json()


def _unusable_ombud_ids(world):
    revoked = OmbudFactory(status=OmbudStatus.REVOKED)
    pending = OmbudFactory(status=OmbudStatus.PENDING, verified_at=None)
    unverified_organisation = OmbudFactory(organisation=OrganisationFactory(verified_at=None))
    return {
        "revoked": revoked.pk,
        "pending": pending.pk,
        "unverified organisation": unverified_organisation.pk,
    }


def test_an_officer_gets_the_same_answer_for_a_missing_and_an_unusable_ombud(world, as_role):
    officer = as_role("officer")
    missing = _answer(officer, 987654)
    answers = {name: _answer(officer, pk) for name, pk in _unusable_ombud_ids(world).items()}
    answers["huge id"] = _answer(officer, 10**30)

    assert missing[0] == 400
    assert missing[1]["code"] == "validation_failed"
    assert {name: answer for name, answer in answers.items() if answer != missing} == {}
    assert not Application.objects.exists()
    assert not Beneficiary.objects.exists()


def test_an_officer_may_name_a_verified_ombud(world, as_role):
    status, body = _answer(as_role("officer"), world.ombud.pk)
    assert status == 201, body
    assert Application.objects.get().ombud == world.ombud


def test_an_ombud_learns_nothing_from_naming_another_ombud(world, as_role):
    ombud = as_role("ombud")
    other_organisation = OmbudFactory()
    missing = _answer(ombud, 987654)
    other = _answer(ombud, other_organisation.pk)
    revoked = _answer(ombud, _unusable_ombud_ids(world)["revoked"])

    assert missing[0] == 400
    assert other == missing
    assert revoked == missing
    assert not Application.objects.exists()


def test_an_ombud_may_name_themselves(world, as_role):
    status, body = _answer(as_role("ombud"), world.ombud.pk)
    assert status == 201, body


def test_an_officer_outside_the_fund_learns_nothing_about_ombud_ids(world, as_role):
    world.fund.handlers.remove(world.officer)
    officer = as_role("officer")
    assert _answer(officer, 987654) == _answer(officer, world.ombud.pk)


def test_a_role_that_may_not_apply_learns_nothing_about_ombud_ids(world, as_role):
    treasurer = as_role("treasurer")
    assert _answer(treasurer, 987654) == _answer(treasurer, world.ombud.pk)
    assert _answer(treasurer, 987654)[0] == 403


def test_options_on_the_applications_endpoint_lists_no_ombud(world, as_role):
    others = [OmbudFactory() for _ in range(2)]
    for role in ("officer", "ombud"):
        response = as_role(role).options("/api/v1/applications/")
        text = json.dumps(response.json())
        assert "ombud" not in text.lower().replace("ombud create them", "")
        for ombud in [world.ombud, *others]:
            assert ombud.organisation.name not in text
