"""Review of #19: the language switch's return address, the 403/404 pages and the audit
event page (items 6 and "also")."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.fixtures import World
from tests.web.conftest import sign_in
from tests.web.test_language_switch import next_of


def switch(client: Client, next_: str) -> Any:
    return client.post(reverse("set_language"), {"language": "sv", "next": next_})


def test_the_language_switch_never_returns_off_site(world: World) -> None:
    client = sign_in(Client(), world.officer)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = switch(client, target)
        assert response.status_code == 302
        assert "evil.example" not in response["Location"], target


def test_a_page_at_an_address_like_another_host_offers_no_way_off_site(world: World) -> None:
    client = sign_in(Client(), world.officer)
    response = client.generic("GET", "/nowhere/", PATH_INFO="//evil.example/")
    assert response.status_code == 404
    response = switch(client, next_of(response))
    assert "evil.example" not in response["Location"]


def test_a_forged_referer_does_not_become_the_way_back(world: World) -> None:
    app = world.to_decision(world.new_application("500"))
    client = sign_in(Client(), world.decider)
    response = client.post(  # a refused decision is shown at the POST-only address
        reverse("web:application_decide", args=[app.reference]),
        {},
        HTTP_REFERER="https://evil.example/worklist/",
    )
    assert response.status_code == 400
    assert next_of(response) == reverse("web:home")


def test_the_404_page_for_anothers_case_names_neither_the_case_nor_its_person(
    world: World,
) -> None:
    app = world.new_application("500", name="Synlig Namnsson")
    stranger = sign_in(Client(), world.treasurer)  # no case handling, not approved
    response = stranger.get(reverse("web:application", args=[app.reference]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Namnsson" not in html and app.beneficiary.reference not in html


def test_the_event_page_shows_a_search_without_what_was_typed(world: World) -> None:
    world.new_application("500", name="Sökbar Personsson")
    officer_client = sign_in(Client(), world.officer)
    posted = officer_client.post(reverse("web:worklist"), {"q": "Personsson"})
    officer_client.get(posted["Location"])
    event = AuditEvent.objects.filter(action="personal_data.searched").latest("sequence")
    auditor = sign_in(Client(), world.auditor)
    html = auditor.get(reverse("web:audit_event", args=[event.sequence])).content.decode()
    assert event.hash in html
    assert "Personsson" not in html and "Sökbar" not in html
    officer = sign_in(Client(), world.officer)
    assert officer.get(reverse("web:audit_event", args=[event.sequence])).status_code == 403
