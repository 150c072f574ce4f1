"""403 and 404 pages in the site's layout, with a way back (issue #19, "also").

A 404 must not tell whether a case exists: "not yours" and "no such case" read the same.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import OmbudFactory
from tests.fixtures import World


@pytest.fixture(autouse=True)
def _production_errors(settings: Any) -> None:
    settings.DEBUG = False


def main_of(response: Any) -> str:
    """The page's <main>: what the page says, apart from the header's form tokens."""
    text = response.content.decode()
    found = re.search(r"<main\b.*?</main>", text, re.S)
    assert found, text[:500]
    return found.group(0)


def test_a_page_not_found_is_in_the_sites_layout_with_a_way_back(
    world: World, as_user: Any
) -> None:
    response = as_user(world.ombud.user).get("/applications/A-2099-999999/")
    assert response.status_code == 404
    text = response.content.decode()
    assert 'class="top"' in text and 'lang="en"' in text  # the site's header, in English
    assert "<title>Page not found · Fundflow</title>" in text
    main = main_of(response)
    assert "<h1>Page not found</h1>" in main
    way_back = f'<a class="button primary" href="{reverse("web:home")}">Back to your start page</a>'
    assert way_back in main


def test_a_404_does_not_reveal_whether_a_case_exists(
    world: World, client: Client, as_user: Any
) -> None:
    """Another ombud's case and a reference nobody has give the same page."""
    app = world.new_application("900")
    stranger = as_user(OmbudFactory().user)
    not_yours = stranger.get(reverse("web:application", args=[app.reference]))
    no_such_case = stranger.get(reverse("web:application", args=["A-2099-999999"]))
    assert not_yours.status_code == no_such_case.status_code == 404
    assert main_of(not_yours) == main_of(no_such_case)
    assert app.reference not in main_of(not_yours)


def test_a_refused_page_is_in_the_sites_layout_with_a_way_back(world: World, as_user: Any) -> None:
    response = as_user(world.ombud.user).get(reverse("web:worklist"))
    assert response.status_code == 403
    text = response.content.decode()
    assert 'class="top"' in text
    assert "<title>You may not open this page · Fundflow</title>" in text
    main = main_of(response)
    assert "<h1>You may not open this page</h1>" in main
    assert f'href="{reverse("web:home")}">Back to your start page</a>' in main


def test_a_page_not_found_offers_to_sign_in_to_someone_not_signed_in(client: Client) -> None:
    client.cookies["django_language"] = "en"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    main = main_of(response)
    assert "<h1>Page not found</h1>" in main
    assert f'href="{reverse("web:login")}">Sign in</a>' in main


def test_the_api_still_answers_404_in_json(world: World, as_user: Any) -> None:
    response = as_user(world.ombud.user).get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_the_error_pages_speak_swedish_by_default(world: World, as_user: Any) -> None:
    client = as_user(world.ombud.user)
    client.cookies["django_language"] = "sv"
    main = main_of(client.get("/applications/A-2099-999999/"))
    assert "<h1>Sidan finns inte</h1>" in main
    assert "Till din startsida" in main
