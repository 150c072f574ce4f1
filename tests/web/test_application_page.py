"""The application page: buttons for exactly the available steps, forms, refusals, timeline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from tests.fixtures import World
from tests.web.conftest import sign_in
from tests.web.query_costs import audit_lock_statements, short_and_long_case
from workflows.services import available_transitions


def page(client: Client, app: Any) -> str:
    return client.get(reverse("web:application", args=[app.reference])).content.decode()


def steps_on(html: str) -> set[str]:
    return set(re.findall(r'data-step="([a-z_]+)"', html))


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_buttons_are_exactly_the_available_steps_for_each_user(world: World) -> None:
    app = world.run(world.new_application("1500"), "submit", world.ombud.user)
    for user in (world.officer, world.decider, world.ombud.user):
        html = page(sign_in(Client(), user), app)
        assert steps_on(html) == set(available_transitions(app, actor=user)), user
    officer_steps = steps_on(page(sign_in(Client(), world.officer), app))
    assert {"request_attestation", "request_completion", "withdraw"} <= officer_steps


def test_an_officer_takes_a_case_through_the_statutory_check(world: World) -> None:
    app = world.new_application("1500", "800")
    app = world.run(app, "submit", world.ombud.user)
    officer = sign_in(Client(), world.officer)
    step = lambda name, **data: officer.post(  # noqa: E731
        reverse("web:application_transition", args=[app.reference, name]), data, follow=True
    )
    step("request_attestation")
    ombud = sign_in(Client(), world.ombud.user)
    response = ombud.post(
        reverse("web:application_transition", args=[app.reference, "attest"]),
        {"method": "portal", "need_confirmed": "on"},
        follow=True,
    )
    assert f"The need in {app.reference} is attested." in messages_of(response)
    step("start_statutory_check")
    first, second = app.items.order_by("position")
    assess = lambda data: officer.post(  # noqa: E731
        reverse("web:application_assess", args=[app.reference]), data, follow=True
    )
    response = assess(
        {
            f"item{first.pk}-outcome": "not_obliged",
            f"item{second.pk}-outcome": "partly",
            f"item{second.pk}-authority": "social_services",
        }
    )
    assert response.status_code == 400
    assert "State the legal basis (e.g. SoL 4 kap 1 §)." in response.content.decode()
    response = assess(
        {
            f"item{first.pk}-outcome": "not_obliged",
            f"item{second.pk}-outcome": "partly",
            f"item{second.pk}-authority": "social_services",
            f"item{second.pk}-legal_basis": "sol_4_1",
            f"item{second.pk}-grantable_amount": "300",
        }
    )
    assert f"The statutory assessment of 2 items in {app.reference} is saved." in messages_of(
        response
    )
    response = step("clear")
    app.refresh_from_db()
    assert app.state == "ready_for_decision"
    html = response.content.decode()
    assert "Cleared for decision" in html, "the timeline shows the step"
    assert "Statutory obligation assessed for an item" in html


def test_a_guards_refusal_is_shown_as_the_service_words_it(world: World) -> None:
    app = world.to_decision(world.new_application("1500"))
    officer = sign_in(Client(), world.officer)  # prepared the case
    response = officer.post(
        reverse("web:application_transition", args=[app.reference, "approve"]), follow=True
    )
    texts = messages_of(response)
    assert any("may not run" in t for t in texts), texts
    app.refresh_from_db()
    assert app.state == "ready_for_decision"


def test_a_decision_maker_decides_per_item(world: World) -> None:
    app = world.to_decision(world.new_application("1500", "900"))
    first, second = app.items.order_by("position")
    decider = sign_in(Client(), world.decider)
    html = page(decider, app)
    assert f'name="item{first.pk}-verdict"' in html
    decide = lambda data: decider.post(  # noqa: E731
        reverse("web:application_decide", args=[app.reference]), data, follow=True
    )
    response = decide(
        {
            f"item{first.pk}-verdict": "reduce",
            f"item{first.pk}-amount": "1000",
            f"item{second.pk}-verdict": "approve",
        }
    )
    assert response.status_code == 400
    assert "Choose why the item is reduced." in response.content.decode()
    decide(
        {
            f"item{first.pk}-verdict": "reduce",
            f"item{first.pk}-amount": "1000",
            f"item{first.pk}-reason": "reduced_to_limit",
            f"item{second.pk}-verdict": "approve",
        }
    )
    app.refresh_from_db()
    assert app.state == "approved"
    first.refresh_from_db()
    assert first.approved_amount.amount == 1000


def test_user_text_is_shown_inertly(world: World) -> None:
    app = world.new_application("500")
    item = app.items.get()
    item.description = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    item.save(update_fields=["encrypted_description"])
    html = page(sign_in(Client(), world.ombud.user), app)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def viewed() -> int:
    return AuditEvent.objects.filter(action="personal_data.viewed").count()


def test_the_person_is_shown_only_on_request_and_every_look_is_logged(world: World) -> None:
    app = world.new_application("500", name="Sara Svensson")
    officer = sign_in(Client(), world.officer)
    assert "Sara" not in officer.get(reverse("web:worklist")).content.decode()
    assert viewed() == 0, "the worklist shows no personal data"
    html = page(officer, app)
    assert "Sara" not in html, "the name is not on the page until asked for"
    assert "behov" in html, "the need description (the person's data) is shown"
    assert viewed() == 1, "and that look is logged"
    before = viewed()
    response = officer.get(reverse("web:application_person", args=[app.reference]))
    assert "Sara Svensson" in response.content.decode()
    views = AuditEvent.objects.filter(action="personal_data.viewed").order_by("-sequence")
    assert views.count() == before + 1
    event = views.first()
    assert event is not None
    assert event.actor_id == world.officer.pk
    assert event.object_ref == app.beneficiary.reference
    assert event.payload["application"] == app.reference
    assert event.payload["channel"] == "page"


def test_a_protected_person_is_shown_only_to_those_a_decision_maker_gave_access(
    world: World,
) -> None:
    from workflows import services

    person = services.register_beneficiary(
        actor=world.ombud.user, name="Skyddad Person", protected_identity=True, region="AB"
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    app = world.run(app, "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)  # officer is now assigned
    before = viewed()
    for officer in (world.officer, world.officer2):
        response = sign_in(Client(), officer).get(
            reverse("web:application_person", args=[app.reference])
        )
        assert "Skyddad" not in response.content.decode()
        assert "protected identity" in response.content.decode()
        html = page(sign_in(Client(), officer), app)
        assert "(not shown)" in html, "nor the need description"
        assert "Give access" not in html, "officers do not give access"
    assert viewed() == before
    decider = sign_in(Client(), world.decider)
    html = page(decider, app)
    assert "Nobody has been given access." in html
    assert f'<option value="{world.decider.pk}"' not in html, "not to oneself"
    response = decider.post(
        reverse("web:application_grant_access", args=[app.reference]),
        {"grantee": world.officer.pk, "reason": "case_handling"},
        follow=True,
    )
    assert f"now sees the person in {app.reference}" in " ".join(messages_of(response))
    html = response.content.decode()
    assert "Handles the case and needs to contact the person" in html
    response = sign_in(Client(), world.officer).get(
        reverse("web:application_person", args=[app.reference])
    )
    assert "Skyddad Person" in response.content.decode()
    assert viewed() == before + 1
    grant = app.protected_access_grants.get()
    response = decider.post(
        reverse("web:application_revoke_access", args=[app.reference]),
        {"grant": grant.pk},
        follow=True,
    )
    assert "The access is revoked." in messages_of(response)
    response = sign_in(Client(), world.officer).get(
        reverse("web:application_person", args=[app.reference])
    )
    assert "Skyddad" not in response.content.decode()


def test_a_treasurer_never_sees_the_person(world: World) -> None:
    app = world.to_approved(world.new_application("500", name="Kim Kassa"))
    treasurer = sign_in(Client(), world.treasurer)
    before = viewed()
    html = page(treasurer, app)
    assert "Kim" not in html
    assert "behov" not in html, "nor the need description"
    assert viewed() == before
    response = treasurer.get(reverse("web:application_person", args=[app.reference]))
    assert response.status_code == 403


def test_assessment_form_offers_the_legal_basis_as_a_list(world: World) -> None:
    app = world.to_statutory_check(world.new_application("1500"))
    item = app.items.get()

    html = page(sign_in(Client(), world.officer), app)

    assert f'<select name="item{item.pk}-legal_basis"' in html
    assert 'value="sol_4_1"' in html


#: (state, role) -> the case page's queries as measured on SQLite (session,
#: user, one-time code device, roles and the audit append of the logged look included); the
#: same for one item and a short timeline as for eight items and a long one. Most of it is
#: ``available_transitions``: the fund-handler and segregation reads, again for each step.
#: One of them reads every komplettering's item changes (issue #19), whether or not there are any.
CASE_PAGE_QUERIES = {
    ("statutory_check", "ombud"): 24,
    ("statutory_check", "officer"): 30,
    ("statutory_check", "decision_maker"): 24,
    ("awaiting_signature", "ombud"): 27,  # + the pending decision's items (what is signed)
    ("awaiting_signature", "officer"): 29,
    ("awaiting_signature", "decision_maker"): 41,
    ("payout_scheduled", "ombud"): 22,
    ("payout_scheduled", "officer"): 24,
    ("payout_scheduled", "decision_maker"): 24,
    ("payout_scheduled", "treasurer"): 17,
}


def case_page_queries(client: Client, app: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("web:application", args=[app.reference]))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("stage", "role"), sorted(CASE_PAGE_QUERIES))
def test_the_case_page_query_count_does_not_grow_with_items_or_timeline(
    world: World, stage: str, role: str
) -> None:
    short, long = short_and_long_case(world, stage)
    user = {
        "ombud": world.ombud.user,
        "officer": world.officer,
        # The second signer: the one who sees the decision form while a signature is missing.
        "decision_maker": world.decider2 if stage == "awaiting_signature" else world.decider,
        "treasurer": world.treasurer,
    }[role]
    client = sign_in(Client(), user)
    client.get(reverse("web:application", args=[short.reference]))  # warm the session

    for_short = case_page_queries(client, short)
    for_long = case_page_queries(client, long)

    assert for_long == for_short, "one item and a short timeline cost what eight and a long one do"
    # Those who see the case's texts append the logged look to the audit chain.
    appends = 0 if role == "treasurer" else 1
    assert for_long <= CASE_PAGE_QUERIES[(stage, role)] + audit_lock_statements(appends)
