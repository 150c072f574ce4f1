"""Issue #19 (fixes, 4): every aria-describedby points at an element of the page.

Django 5.2 renders ``aria-describedby`` to ``<id>_helptext`` and ``<id>_error``; the shared
field partial must give the help text and the errors exactly those ids, so a screen reader
reads them with the field.
"""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from tests.fixtures import World
from tests.web.conftest import sign_in


def dangling_descriptions(html: str) -> list[str]:
    """The ids named by an aria-describedby that no element of the page has."""
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    named = [
        name for value in re.findall(r'aria-describedby="([^"]*)"', html) for name in value.split()
    ]
    return [name for name in named if name not in ids]


def described(html: str) -> list[str]:
    return re.findall(r'aria-describedby="([^"]*)"', html)


def test_every_description_of_a_refused_form_on_the_case_page_exists(world: World) -> None:
    app = world.run(
        world.to_approved(world.new_application("1500")), "schedule_payout", world.treasurer
    )
    treasurer = sign_in(Client(), world.treasurer)
    response = treasurer.post(
        reverse("web:application_transition", args=[app.reference, "payout_failed"]),
        {},
        follow=True,
    )
    html = response.content.decode()
    assert "Why did the payout fail?" in html
    assert dangling_descriptions(html) == []


def test_every_description_of_the_refused_assessment_form_exists(world: World) -> None:
    app = world.to_statutory_check(world.new_application("1500", "800"))
    first, second = app.items.order_by("position")
    response = sign_in(Client(), world.officer).post(
        reverse("web:application_assess", args=[app.reference]),
        {f"item{first.pk}-outcome": "partly", f"item{second.pk}-outcome": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'aria-describedby="id_item{second.pk}-outcome_error"' in html
    assert f'id="id_item{second.pk}-outcome_error"' in html
    assert f"id_item{first.pk}-grantable_amount_helptext" in html
    assert dangling_descriptions(html) == []


def test_every_description_of_the_login_page_exists(client: Client, world: World) -> None:
    html = client.get(reverse("web:login")).content.decode()
    assert dangling_descriptions(html) == []
    refused = client.post(reverse("web:login"), {"username": "", "password": ""})
    html = refused.content.decode()
    assert described(html), "the refused login form describes its fields"
    assert dangling_descriptions(html) == []


def test_every_description_of_the_worklist_exists(world: World) -> None:
    html = sign_in(Client(), world.officer).get(reverse("web:worklist")).content.decode()
    assert "id_q_helptext" in html
    assert dangling_descriptions(html) == []
