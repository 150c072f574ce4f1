"""Issue #19 (fixes, 2): re-saving the one assessment form must not blank an evidence
reference the officer could not see.

The evidence reference is the person's data (under their key): an officer without access to
a protected identity gets the field empty. Saving every item then sends "" for each: from
someone who could not see the stored reference, an empty field keeps it.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from fund.models import Application, ProtectedAccessReason
from fund.protected_access import grant_protected_access
from tests.fixtures import World
from tests.web.conftest import sign_in
from workflows import services
from workflows.models import Obligation, StatutoryAssessment

EVIDENCE = "Socialtjänstens beslut dnr 2026-4711"


def protected_case_in_check(world: World) -> Application:
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Hemlig Skyddad", protected_identity=True
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[
            services.NeedInput(category="glasses", amount="1500", description="behov"),
            services.NeedInput(category="glasses", amount="800", description="behov"),
        ],
    )
    app = world.to_statutory_check(app)
    grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.CASE_HANDLING
    )
    for item in app.items.all():
        services.record_statutory_assessment(
            item, actor=world.officer, outcome=Obligation.NOT_OBLIGED, evidence_reference=EVIDENCE
        )
    return app


def stored_evidence(app: Application) -> list[str]:
    return [
        a.evidence_reference
        for a in StatutoryAssessment.objects.filter(need_item__application=app).order_by(
            "need_item__position"
        )
    ]


def test_an_empty_evidence_field_from_someone_who_could_not_see_it_keeps_the_stored_value(
    world: World,
) -> None:
    app = protected_case_in_check(world)
    # officer2 has no grant: the case's texts are hidden from them, the field came empty.
    saved = services.record_statutory_assessments(
        app,
        actor=world.officer2,
        assessments=[
            services.AssessmentInput(item=item.pk, outcome=Obligation.NOT_OBLIGED)
            for item in app.items.all()
        ],
    )
    assert len(saved) == 2
    assert stored_evidence(app) == [EVIDENCE, EVIDENCE]
    last = AuditEvent.objects.filter(action="statutory.assessed").latest("sequence")
    assert last.payload["evidence"] is True


def test_a_new_evidence_reference_from_someone_who_could_not_see_it_replaces_the_old(
    world: World,
) -> None:
    app = protected_case_in_check(world)
    first = app.items.order_by("position").first()
    services.record_statutory_assessment(
        first, actor=world.officer2, outcome=Obligation.NOT_OBLIGED, evidence_reference="Nytt"
    )
    assert stored_evidence(app) == ["Nytt", EVIDENCE]


def test_someone_who_sees_the_evidence_may_empty_it(world: World) -> None:
    app = protected_case_in_check(world)
    first = app.items.order_by("position").first()
    services.record_statutory_assessment(
        first, actor=world.officer, outcome=Obligation.NOT_OBLIGED, evidence_reference=""
    )
    assert stored_evidence(app) == ["", EVIDENCE]


def test_the_one_assessment_form_saved_without_access_keeps_every_evidence_reference(
    world: World,
) -> None:
    app = protected_case_in_check(world)
    first, second = app.items.order_by("position")
    officer2 = sign_in(Client(), world.officer2)
    page = officer2.get(reverse("web:application", args=[app.reference])).content.decode()
    assert EVIDENCE not in page, "the officer without access does not see it"
    response = officer2.post(
        reverse("web:application_assess", args=[app.reference]),
        {
            f"item{first.pk}-outcome": "not_obliged",
            f"item{first.pk}-evidence_reference": "",
            f"item{second.pk}-outcome": "not_obliged",
            f"item{second.pk}-evidence_reference": "",
        },
    )
    assert response.status_code == 302
    assert stored_evidence(app) == [EVIDENCE, EVIDENCE]


def test_the_officer_without_access_is_told_an_empty_field_keeps_the_reference(
    world: World,
) -> None:
    app = protected_case_in_check(world)
    first = app.items.order_by("position").first()
    hint = "A reference is saved but not shown to you: leave the field empty to keep it."
    html = (
        sign_in(Client(), world.officer2)
        .get(reverse("web:application", args=[app.reference]))
        .content.decode()
    )
    assert f'<small id="id_item{first.pk}-evidence_reference_helptext">{hint}</small>' in html
    assert f'aria-describedby="id_item{first.pk}-evidence_reference_helptext"' in html
    seeing = sign_in(Client(), world.officer)
    assert hint not in seeing.get(reverse("web:application", args=[app.reference])).text
