"""The language switch without a surprise navigation (issue #19, "also"; WCAG 3.2.2).

Choosing a language is a button press, never a side effect of moving through a list, and
afterwards the user is on the same page - or, when that page was the answer to a form, on
the page the form was sent from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.fixtures import World

APP_JS = Path(settings.BASE_DIR) / "web" / "static" / "web" / "app.js"


def language_form(response: Any) -> str:
    text = response.content.decode()
    found = re.search(r'<form action="/i18n/setlang/".*?</form>', text, re.S)
    assert found, text[:800]
    return found.group(0)


def next_of(response: Any) -> str:
    found = re.search(r'name="next" value="([^"]*)"', language_form(response))
    assert found
    return found.group(1).replace("&amp;", "&")


def test_the_language_is_chosen_with_a_button_not_by_moving_through_a_list(
    world: World, as_user: Any
) -> None:
    form = language_form(as_user(world.ombud.user).get(reverse("web:ombud_home")))
    assert "<select" not in form
    assert '<button type="submit" name="language" value="sv" lang="sv"' in form
    assert '<button type="submit" name="language" value="en" lang="en"' in form
    assert 'aria-current="true"' in form.split('value="en"')[1].split("</button>")[0]
    assert "change" not in APP_JS.read_text(encoding="utf-8").split("data-confirm")[0]


def test_switching_the_language_keeps_the_user_on_the_same_page(world: World, as_user: Any) -> None:
    client = as_user(world.officer)
    page = f"{reverse('web:worklist')}?state=open&sort=oldest"
    assert next_of(client.get(page)) == page
    response = client.post(reverse("set_language"), {"language": "sv", "next": page})
    assert (response.status_code, response["Location"]) == (302, page)
    assert 'lang="sv"' in client.get(page).content.decode()


def test_a_page_shown_after_a_form_switches_language_on_the_same_page(
    world: World, as_user: Any
) -> None:
    """A refused form comes back at its own address, which answers GET too."""
    client = as_user(world.ombud.user)
    response = client.post(reverse("web:ombud_new"), {"fund": ""})
    assert response.status_code == 400
    assert next_of(response) == reverse("web:ombud_new")


def test_a_page_shown_at_a_post_only_address_switches_back_to_the_page_of_the_form(
    world: World, as_user: Any
) -> None:
    """An address that only takes forms would answer the switch with 405: go where the form was."""
    client = as_user(world.ombud.user)
    step = reverse("web:application_transition", args=["A-2099-999999", "withdraw"])
    sent_from = reverse("web:application", args=["A-2099-999999"])
    response = client.post(step, {"reason": "x"}, HTTP_REFERER=f"http://testserver{sent_from}")
    assert response.status_code == 404
    assert next_of(response) == sent_from


def test_a_page_at_a_post_only_address_without_a_safe_origin_switches_to_the_start_page(
    world: World, as_user: Any
) -> None:
    client = as_user(world.ombud.user)
    step = reverse("web:application_transition", args=["A-2099-999999", "withdraw"])
    for referer in ({}, {"HTTP_REFERER": "https://elsewhere.example/applications/"}):
        response = client.post(step, {"reason": "x"}, **referer)
        assert next_of(response) == reverse("web:home")


def test_the_switch_is_there_before_signing_in(client: Client) -> None:
    response = client.get(reverse("web:login"))
    assert next_of(response) == reverse("web:login")
