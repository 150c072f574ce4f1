"""Issue #19 (fixes, 1): a search by name or personnummer never lands in the page address.

The typed text travels by POST (CSRF-protected) and is kept on the server; the address, the
Referer the next page gets, the access log line (``request.get_full_path()``) and every link
on the page carry only a short token. Paging, sorting and the htmx refresh keep the search.
"""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from bench.worklist_data import bulk_applications
from tests.factories import OmbudFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from web.selectors import PAGE_SIZE
from workflows import services

PERSONNUMMER = "19811218-9876"
#: Every part of the personnummer that would give it away in an address.
PNR_PARTS = ("19811218", "811218", "9876", "1218")

#: Attributes whose value is an address or goes into one (links, forms, htmx, return paths).
ADDRESS_ATTRIBUTES = re.compile(
    r'(?:href|action|hx-get|hx-post|hx-push-url|formaction)="([^"]*)"'
    r'|name="(?:back|query)" value="([^"]*)"'
)


def addresses(html: str) -> list[str]:
    return [a or b for a, b in ADDRESS_ATTRIBUTES.findall(html)]


def person_with_personnummer(world: World) -> Any:
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Pia Nummer", personal_number=PERSONNUMMER
    )
    return services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )


def assert_nowhere_in_addresses(texts: tuple[str, ...], *places: str) -> None:
    for place in places:
        for text in texts:
            assert text.lower() not in place.lower(), (text, place)


def test_a_search_by_personnummer_never_lands_in_the_address(world: World) -> None:
    app = person_with_personnummer(world)
    world.new_application("500")
    client = sign_in(Client(enforce_csrf_checks=True), world.officer)
    page = client.get(reverse("web:worklist"))
    html = page.content.decode()
    assert re.search(r'<form method="post"[^>]*role="search"', html), "the search form posts"
    token = client.cookies["csrftoken"].value

    posted = client.post(
        reverse("web:worklist"),
        {"q": PERSONNUMMER, "state": "", "sort": "waiting", "csrfmiddlewaretoken": token},
    )
    assert posted.status_code == 303
    location = posted["Location"]
    assert_nowhere_in_addresses(PNR_PARTS, location)

    shown = client.get(location)
    assert shown.status_code == 200
    assert [row.reference for row in shown.context["rows"]] == [app.reference]
    # What gunicorn and django.request log, and what the next page gets as its Referer.
    assert_nowhere_in_addresses(PNR_PARTS, shown.wsgi_request.get_full_path())
    html = shown.content.decode()
    assert_nowhere_in_addresses(PNR_PARTS, *addresses(html))
    assert f'value="{PERSONNUMMER}"' in html, "the search box shows what was typed"
    searched = AuditEvent.objects.filter(action="personal_data.searched")
    assert searched.count() == 1, "one search, one logged read"


def test_a_search_without_its_csrf_token_is_refused(world: World) -> None:
    client = sign_in(Client(enforce_csrf_checks=True), world.officer)
    refused = client.post(reverse("web:worklist"), {"q": PERSONNUMMER})
    assert refused.status_code == 403


def test_a_search_by_name_through_htmx_pushes_an_address_without_the_name(world: World) -> None:
    app = world.new_application("500", name="Åsa Öberg")
    world.new_application("500", name="Bertil Annan")
    client = sign_in(Client(), world.officer)
    swapped = client.post(
        reverse("web:worklist"),
        {"q": "Öberg", "state": "", "sort": "waiting"},
        headers={"HX-Request": "true"},
    )
    assert swapped.status_code == 200
    assert [row.reference for row in swapped.context["rows"]] == [app.reference]
    pushed = swapped["HX-Push-Url"]
    assert pushed.startswith("/worklist/?") and "s=" in pushed
    assert_nowhere_in_addresses(("Öberg", "berg", "%C3%96"), pushed, *addresses(swapped.text))

    again = client.get(pushed)
    assert [row.reference for row in again.context["rows"]] == [app.reference]
    assert_nowhere_in_addresses(("berg", "%C3%96"), again.wsgi_request.get_full_path())


def test_paging_the_results_keeps_the_search(world: World) -> None:
    bulk_applications(world.fund, world.ombud, PAGE_SIZE + 5, officers=[world.officer])
    other = OmbudFactory()
    theirs = services.create_application(
        actor=other.user,
        fund=world.fund,
        beneficiary=services.register_beneficiary(actor=other.user, name="Annan Person"),
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    word = world.ombud.user.username
    client = sign_in(Client(), world.officer)
    first = client.get(
        client.post(reverse("web:worklist"), {"q": word, "sort": "reference"})["Location"]
    )
    assert first.context["rows"].paginator.count == PAGE_SIZE + 5
    html = first.content.decode()
    next_link = re.search(r'<a href="([^"]*page=2[^"]*)">', html)
    assert next_link, html
    second = client.get(reverse("web:worklist") + next_link.group(1).replace("&amp;", "&"))
    rows = [row.reference for row in second.context["rows"]]
    assert len(rows) == 5 and theirs.reference not in rows
    assert second.context["query"].sort == "reference", "the sort is kept too"
    assert f'value="{word}"' in second.content.decode()
    assert_nowhere_in_addresses((word,), second.wsgi_request.get_full_path())


def test_the_same_search_again_reuses_its_token(world: World) -> None:
    client = sign_in(Client(), world.officer)
    first = client.post(reverse("web:worklist"), {"q": "Öberg"})["Location"]
    resorted = client.post(reverse("web:worklist"), {"q": "Öberg", "sort": "state"})["Location"]
    assert re.search(r"s=([\w-]+)", first).group(1) == re.search(r"s=([\w-]+)", resorted).group(1)
    assert "sort=state" in resorted


def test_a_search_typed_into_the_address_is_not_run_nor_repeated(world: World) -> None:
    person_with_personnummer(world)
    client = sign_in(Client(), world.officer)
    html = client.get(reverse("web:worklist"), {"q": PERSONNUMMER, "state": "all"}).content.decode()
    assert not AuditEvent.objects.filter(action="personal_data.searched").exists()
    assert_nowhere_in_addresses(PNR_PARTS, *addresses(html))


def test_another_users_token_finds_nothing(world: World) -> None:
    person_with_personnummer(world)
    officer = sign_in(Client(), world.officer)
    location = officer.post(reverse("web:worklist"), {"q": PERSONNUMMER})["Location"]
    other = sign_in(Client(), world.officer2)
    shown = other.get(location)
    assert shown.context["query"].search == ""
    assert PERSONNUMMER not in shown.content.decode()


def test_the_ombud_portal_search_never_lands_in_the_address(world: World) -> None:
    mine = world.new_application("500")
    world.new_application("500")
    client = sign_in(Client(enforce_csrf_checks=True), world.ombud.user)
    html = client.get(reverse("web:ombud_home")).content.decode()
    assert re.search(r'<form method="post"[^>]*role="search"', html)
    typed = mine.reference[-6:]
    posted = client.post(
        reverse("web:ombud_home"),
        {"q": typed, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )
    assert posted.status_code == 303
    assert_nowhere_in_addresses((typed,), posted["Location"])
    shown = client.get(posted["Location"])
    assert [c.reference for c in shown.context["cases"]] == [mine.reference]
    assert_nowhere_in_addresses((typed,), shown.wsgi_request.get_full_path())
    assert f'value="{typed}"' in shown.content.decode()
