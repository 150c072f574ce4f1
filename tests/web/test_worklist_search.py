"""Issue #19 (search): finding a case on the worklist by reference, person or ombud; "my cases",
"awaiting a second signature", saved filters; the bulk bar; the ombud portal's search."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from bench.worklist_data import bulk_applications
from fund.models import Beneficiary, ProtectedAccessReason
from fund.name_index import name_words
from fund.protected_access import grant_protected_access
from privacy.erasure import erase_person
from tests.factories import FundFactory, OmbudFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from web.models import SavedFilter
from web.selectors import PAGE_SIZE
from workflows import services
from workflows.assignment import assign_officer

PERSONNUMMER = "811218-9876"


def refs(response: Any) -> list[str]:
    assert response.status_code == 200
    return [app.reference for app in response.context["rows"]]


def search(client: Client, text: str, **params: Any) -> list[str]:
    """The search as the page sends it: posted, then the address it answers with."""
    posted = client.post(reverse("web:worklist"), {"q": text, **params})
    assert posted.status_code == 303
    return refs(client.get(posted["Location"]))


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- by reference ---------------------------------------------------------------------------


def test_a_partial_reference_finds_the_case_from_page_2(world: World) -> None:
    bulk_applications(world.fund, world.ombud, PAGE_SIZE + 5, officers=[world.officer])
    new = world.new_application("900")
    client = sign_in(Client(), world.officer)
    assert new.reference not in refs(client.get(reverse("web:worklist"))), "page 1 lacks it"
    number = new.reference.rsplit("-", 1)[1]  # "000001"
    assert new.reference in search(client, number[-4:])
    year_part = new.reference[2:9]  # "2026-00"
    assert new.reference in search(client, year_part)
    assert search(client, new.reference.lower()) == [new.reference]


def test_a_search_by_reference_finds_a_case_in_any_state(world: World) -> None:
    app = world.run(
        world.new_application("500"), "withdraw", world.ombud.user, reason="applicant_request"
    )
    client = sign_in(Client(), world.officer)
    assert app.reference not in refs(client.get(reverse("web:worklist")))
    assert search(client, app.reference[-6:]) == [app.reference]


def test_a_case_outside_the_users_scope_is_never_found(world: World) -> None:
    other_fund = FundFactory()
    theirs = world.new_application("500", fund=other_fund, name="Zelda Utanför")
    services.register_beneficiary(
        actor=world.ombud.user, name="Zelda Utanför", personal_number=PERSONNUMMER
    )
    client = sign_in(Client(), world.officer)
    for text in (theirs.reference, theirs.reference[-4:], "Zelda", "Utanför", PERSONNUMMER):
        assert theirs.reference not in search(client, text), text
    assert not AuditEvent.objects.filter(
        action="personal_data.viewed", object_ref=theirs.beneficiary.reference
    ).exists()


# --- by person ------------------------------------------------------------------------------


def test_a_search_by_name_finds_the_person_and_is_a_logged_read(world: World) -> None:
    app = world.new_application("500", name="Åsa Öberg")
    other = world.new_application("500", name="Asa Oberg")
    client = sign_in(Client(), world.officer)
    before = AuditEvent.objects.count()
    assert search(client, "åsa") == [app.reference]
    assert search(client, "ÖBERG åsa") == [app.reference]
    assert search(client, "Asa") == [other.reference], "Å and A are different letters"
    assert search(client, "Ås") == [], "a whole word of the name, not a part"
    viewed = AuditEvent.objects.filter(
        action="personal_data.viewed", object_ref=app.beneficiary.reference, sequence__gt=0
    )
    assert viewed.count() == 2
    assert viewed.first().payload["channel"] == "search"
    searched = AuditEvent.objects.filter(action="personal_data.searched").order_by("sequence")
    assert searched.count() == 4
    first = searched.first().payload
    assert first["by"] == "name" and first["words"] == 1
    assert first["people"] == [app.beneficiary.reference] and first["applications"] == 1
    logged = " ".join(str(e.payload) for e in AuditEvent.objects.filter(sequence__gt=before))
    assert "sa" not in logged.lower().replace("search", "").replace("case_handling", ""), logged


def test_names_compare_without_case_or_accents_but_keep_swedish_letters() -> None:
    assert name_words("ANDRÉ Müller-Lüdenscheidt") == ["andre", "muller", "ludenscheidt"]
    assert name_words("Åsa Öberg Ärlig") == ["åsa", "öberg", "ärlig"]
    assert name_words("Bjørn Ærø O'Brien") == ["björn", "ärö", "obrien"]


def test_a_personnummer_typed_in_the_search_finds_the_person(world: World) -> None:
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Pia Nummer", personal_number=PERSONNUMMER
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    world.new_application("500")
    client = sign_in(Client(), world.officer)
    assert search(client, PERSONNUMMER) == [app.reference]
    assert search(client, "19811218-9876") == [app.reference]
    event = AuditEvent.objects.filter(action="personal_data.searched").latest("sequence")
    assert event.payload["by"] == "personnummer"
    assert "9876" not in str(event.payload)


def test_a_protected_person_is_not_found_by_a_user_without_access(world: World) -> None:
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Hemlig Skyddad", protected_identity=True
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    client = sign_in(Client(), world.officer)
    assert search(client, "Hemlig") == []
    event = AuditEvent.objects.filter(action="personal_data.searched").latest("sequence")
    assert event.payload["people"] == [] and event.payload["applications"] == 0
    assert not AuditEvent.objects.filter(
        action="personal_data.viewed", object_ref=person.reference
    ).exists()
    assert app.reference in search(client, app.reference), "the reference is no secret"

    grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.CASE_HANDLING
    )
    assert search(client, "Hemlig") == [app.reference]


def test_the_ombud_is_found_by_name_or_organisation_by_staff(world: World) -> None:
    app = world.new_application("500")
    ombud_user = world.ombud.user
    ombud_user.first_name, ombud_user.last_name = "Olivia", "Ombudsdottir"
    ombud_user.save()
    client = sign_in(Client(), world.officer)
    assert app.reference in search(client, "ombudsdottir")
    organisation = world.ombud.organisation.name.split()[0]
    assert app.reference in search(client, organisation)
    assert search(client, "Ingenalls Sådan") == []


def test_erasure_clears_the_name_index(world: World) -> None:
    app = world.run(
        world.new_application("500", name="Ebba Raderad"),
        "withdraw",
        world.ombud.user,
        reason="applicant_request",
    )
    person = Beneficiary.objects.get(pk=app.beneficiary_id)
    assert person.name_index
    erase_person(person, actor=world.admin, today=date(2100, 1, 1))
    assert Beneficiary.objects.get(pk=person.pk).name_index == ""
    assert search(sign_in(Client(), world.officer), "Ebba") == []


# --- my cases, awaiting a second signature -------------------------------------------------


def test_my_cases_shows_the_cases_assigned_to_me(world: World) -> None:
    mine = world.run(world.new_application("500"), "submit", world.ombud.user)
    theirs = world.run(world.new_application("500"), "submit", world.ombud.user)
    assign_officer(mine, actor=world.officer, officer=world.officer)
    assign_officer(theirs, actor=world.officer, officer=world.officer2)
    client = sign_in(Client(), world.officer)
    assert refs(client.get(reverse("web:worklist"), {"mine": "on"})) == [mine.reference]
    html = client.get(reverse("web:worklist"), {"mine": "on"}).content.decode()
    assert 'href="/worklist/?mine=on" aria-current="page"' in html


def test_awaiting_a_second_signature_is_a_filter_and_shows_in_the_state(world: World) -> None:
    big = world.run(world.to_decision(world.new_application("15000")), "approve", world.decider)
    ready = world.to_decision(world.new_application("500"))
    client = sign_in(Client(), world.decider2)
    response = client.get(reverse("web:worklist"), {"awaiting_signature": "on"})
    assert refs(response) == [big.reference]
    html = client.get(reverse("web:worklist")).content.decode()
    assert "Ready for decision — awaiting the second signature" in html
    assert ready.reference in html
    assert html.count("awaiting the second signature") == 1


# --- saved filters --------------------------------------------------------------------------


def test_saved_filters_are_per_user(world: World) -> None:
    officer = sign_in(Client(), world.officer)
    response = officer.post(
        reverse("web:worklist_filter_save"),
        {"name": "Mina gamla", "query": "mine=on&waiting=30&q=Åsa+Öberg&evil=1&page=3"},
    )
    saved = SavedFilter.objects.get(user=world.officer)
    assert saved.query == "waiting=30&mine=on", "known filters only: no search text, no page"
    assert response["Location"] == "/worklist/?waiting=30&mine=on"
    assert "Mina gamla" in officer.get(reverse("web:worklist")).content.decode()

    other = sign_in(Client(), world.officer2)
    assert "Mina gamla" not in other.get(reverse("web:worklist")).content.decode()
    other.post(reverse("web:worklist_filter_delete"), {"filter": saved.pk})
    assert SavedFilter.objects.filter(pk=saved.pk).exists(), "nobody deletes another's filter"

    officer = sign_in(Client(), world.officer)
    officer.post(reverse("web:worklist_filter_delete"), {"filter": saved.pk})
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


# --- bulk actions ---------------------------------------------------------------------------


def test_a_bulk_failure_keeps_the_filters_and_the_page(world: World) -> None:
    draft = world.new_application("500")
    client = sign_in(Client(), world.officer)
    back = "/worklist/?" + urlencode({"state": "all", "sort": "-reference", "page": "2"})
    response = client.post(
        reverse("web:worklist_bulk"), {"action": "request_attestation", "back": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert texts(response) == ["Choose one or more applications."]

    response = client.post(
        reverse("web:worklist_bulk"),
        {"action": "request_attestation", "applications": [draft.reference], "back": back},
    )
    assert response["Location"] == back
    message = texts(response)[-1]
    assert "request_attestation" not in message
    assert message == (
        f"{draft.reference}: the ombud cannot be asked to attest while the application is “Draft”."
    )


def test_bulk_messages_say_what_was_done_with_swedish_plurals(world: World) -> None:
    apps = [world.run(world.new_application("500"), "submit", world.ombud.user) for _ in range(3)]
    world.officer2.first_name, world.officer2.last_name = "Olle", "Officer"
    world.officer2.save()
    client = sign_in(Client(), world.officer)
    client.post(reverse("set_language"), {"language": "sv"})
    with translation.override("sv"):
        one = client.post(
            reverse("web:worklist_bulk"),
            {"action": "assign", "applications": [apps[0].reference], "officer": world.officer2.pk},
        )
        assert texts(one) == ["1 ansökan tilldelad Olle Officer."]
        three = client.post(
            reverse("web:worklist_bulk"),
            {
                "action": "assign",
                "applications": [a.reference for a in apps],
                "officer": world.officer2.pk,
            },
        )
        assert texts(three)[-1] == "3 ansökningar tilldelade Olle Officer."


def test_the_bulk_bar_is_above_the_table_with_a_labelled_select_all(world: World) -> None:
    world.run(world.new_application("500"), "submit", world.ombud.user)
    html = sign_in(Client(), world.officer).get(reverse("web:worklist")).content.decode()
    assert html.index('class="bulk"') < html.index('<table class="list">')
    assert 'id="pick-all" data-pick-all' in html
    assert (
        '<label for="pick-all" class="visually-hidden">Choose all applications on this page' in html
    )


# --- the ombud portal -----------------------------------------------------------------------


def test_the_ombud_finds_own_cases_by_reference_only(world: World) -> None:
    mine = world.new_application("500")
    other_ombud = OmbudFactory()
    theirs = services.create_application(
        actor=other_ombud.user,
        fund=world.fund,
        beneficiary=services.register_beneficiary(actor=other_ombud.user, name="Annan Person"),
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    client = sign_in(Client(), world.ombud.user)
    response = client.post(reverse("web:ombud_home"), {"q": mine.reference[-4:]}, follow=True)
    assert [c.reference for c in response.context["cases"]] == [mine.reference]
    response = client.post(reverse("web:ombud_home"), {"q": theirs.reference}, follow=True)
    assert response.context["cases"] == []
    assert f"/applications/{theirs.reference}/" not in response.content.decode()


def test_drafts_wait_for_the_ombud(world: World) -> None:
    draft = world.new_application("500")
    html = sign_in(Client(), world.ombud.user).get(reverse("web:ombud_home")).content.decode()
    waiting = html[html.index('id="waiting-heading"') : html.index("</section>")]
    assert draft.reference in waiting
    assert "Draft: submit it when it is ready." in waiting
