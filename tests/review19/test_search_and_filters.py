"""Review of #19: the worklist search (a logged read) and saved filters (item 1)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import OmbudFactory, UserFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from web.models import SavedFilter
from workflows import services

PERSONNUMMER = "811218-9876"


def worklist(client: Client, **params: Any) -> Any:
    """The worklist; a search is posted as the page sends it, then its address is read."""
    if "q" in params:
        posted = client.post(reverse("web:worklist"), params)
        assert posted.status_code == 303
        response = client.get(posted["Location"])
    else:
        response = client.get(reverse("web:worklist"), params)
    assert response.status_code == 200
    return response


def table(response: Any) -> str:
    """The list as shown, without the parts that echo what was typed."""
    html = response.content.decode()
    html = html[html.index('<p class="count"') : html.index("</table>")]
    return re.sub(r'<input type="hidden" name="back"[^>]*>', "", html)


def protected_case(world: World, name: str) -> Any:
    person = services.register_beneficiary(
        actor=world.ombud.user, name=name, protected_identity=True
    )
    return services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )


def test_a_hidden_person_and_no_person_give_the_same_answer(world: World) -> None:
    protected_case(world, "Hemlig Skyddad")
    client = sign_in(Client(), world.officer)
    hidden = worklist(client, q="Skyddad")
    nobody = worklist(client, q="Ingensson")
    assert table(hidden) == table(nobody)
    payloads = [
        e.payload
        for e in AuditEvent.objects.filter(action="personal_data.searched").order_by("sequence")
    ]
    assert payloads[0] == payloads[1], "the log does not tell either"


def test_a_search_never_decrypts_or_logs_the_names_of_people_in_other_funds(
    world: World,
) -> None:
    other_handler = UserFactory(roles=["officer"])
    client = sign_in(Client(), other_handler)  # an officer of no fund of the case
    world.new_application("500", name="Fjärran Person")
    assert worklist(client, q="Fjärran").context["rows"].paginator.count == 0
    assert not AuditEvent.objects.filter(action="personal_data.viewed").exists()


def test_a_saved_filter_never_keeps_the_search_text(world: World) -> None:
    client = sign_in(Client(), world.officer)
    client.post(
        reverse("web:worklist_filter_save"),
        {"name": "Mina", "query": f"q={PERSONNUMMER}&state=all&mine=1&search={PERSONNUMMER}"},
    )
    saved = SavedFilter.objects.get(user=world.officer)
    assert "9876" not in saved.query
    assert "state=all" in saved.query and "mine=1" in saved.query


def test_nobody_deletes_or_uses_anothers_saved_filter(world: World) -> None:
    mine = SavedFilter.objects.create(user=world.officer2, name="Hennes", query="state=all")
    client = sign_in(Client(), world.officer)
    client.post(reverse("web:worklist_filter_delete"), {"filter": str(mine.pk)})
    assert SavedFilter.objects.filter(pk=mine.pk).exists()
    assert "Hennes" not in worklist(client).content.decode()


def test_an_ombud_finds_only_their_own_cases_by_reference(world: World) -> None:
    app = world.new_application("500")
    stranger = sign_in(Client(), OmbudFactory().user)
    posted = stranger.post(reverse("web:ombud_home"), {"q": app.reference})
    response = stranger.get(posted["Location"]) if posted.status_code == 303 else posted
    assert response.status_code == 200
    assert response.context["cases"] == []


def test_a_bulk_action_never_sends_the_user_off_site(world: World) -> None:
    world.new_application("500")
    client = sign_in(Client(), world.officer)
    for back in (
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "/\t/evil.example",
    ):
        response = client.post(reverse("web:worklist_bulk"), {"action": "nonsense", "back": back})
        assert response.status_code == 302
        assert response["Location"] == reverse("web:worklist"), back
