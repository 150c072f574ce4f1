"""Issue #19, items 2 and 9 in the browser's words: the ombud edits a draft or a returned
case in one page, and the fund's rules come up front with every problem at its field."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse
from moneyed import Money

from fund.models import Application
from fund.states import State
from tests.factories import FundFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from tests.web.test_ombud_portal import new_application_data

ANSWER = "Kvittot är inskannat, Svarsson"


def returned_case(world: World) -> Application:
    app = world.to_statutory_check(world.new_application("1500", "800"))
    world.assess_all(app)
    return world.run(app, "request_completion", world.officer, message="Kvitto på kostnaden saknas")


def edit_data(app: Application, **changes: str) -> dict[str, str]:
    """The edit page's form as the ombud sends it: the items as they are, with ``changes``."""
    items = list(app.items.order_by("position"))
    data = {
        "fund": str(app.fund_id),
        "need-TOTAL_FORMS": str(len(items) + 2),
        "need-INITIAL_FORMS": str(len(items)),
        "need-MIN_NUM_FORMS": "0",
        "need-MAX_NUM_FORMS": "10",
    }
    for n, item in enumerate(items):
        data |= {
            f"need-{n}-item": str(item.pk),
            f"need-{n}-category": item.category,
            f"need-{n}-amount": str(item.requested_amount.amount),
            f"need-{n}-description": item.description,
        }
    return data | changes


def field_tag(html: str, name: str) -> str:
    """The opening tag of the input, select or textarea named ``name``."""
    match = re.search(rf'<(?:input|select|textarea)[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no field {name}"
    return match.group(0)


def assert_invalid_at(html: str, name: str, words: str) -> None:
    """The field is marked invalid and described by an error text that says ``words``."""
    tag = field_tag(html, name)
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]+)"', tag)
    assert described, tag
    error_id = next(i for i in described.group(1).split() if i.endswith("_error"))
    error = re.search(rf'id="{error_id}"[^>]*>(.*?)</p>', html, re.S)
    assert error and words in error.group(1), (name, error)


# --- item 2: komplettering in one page ------------------------------------------------------


def test_ombud_edits_a_returned_case_and_resubmits_in_one_post(world: World) -> None:
    app = returned_case(world)
    client = sign_in(Client(), world.ombud.user)
    page = client.get(reverse("web:ombud_edit", args=[app.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kvitto på kostnaden saknas" in html and "data-no-enter-submit" in html
    data = edit_data(
        app,
        **{
            "need-1-amount": "950",
            "need-2-category": "medicine",
            "need-2-amount": "300",
            "completion-answer": ANSWER,
            "send": "1",
        },
    )
    response = client.post(reverse("web:ombud_edit", args=[app.reference]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:application", args=[app.reference])
    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    amounts = [i.requested_amount for i in app.items.order_by("position")]
    assert amounts == [Money("1500", "SEK"), Money("950", "SEK"), Money("300", "SEK")]
    assert app.completion_requests.get().answer == ANSWER


def test_officer_sees_the_answer_and_what_changed(world: World) -> None:
    app = returned_case(world)
    client = sign_in(Client(), world.ombud.user)
    data = edit_data(app, **{"need-1-amount": "950", "completion-answer": ANSWER, "send": "1"})
    client.post(reverse("web:ombud_edit", args=[app.reference]), data)

    html = sign_in(Client(), world.officer).get(reverse("web:application", args=[app.reference]))
    text = html.content.decode()
    assert "Komplettering answered" in text
    assert "Kvitto på kostnaden saknas" in text and ANSWER in text
    changes = text[text.index("What the ombud changed") :]
    assert "SEK 800.00 → SEK 950.00" in changes


def test_a_draft_is_continued_from_the_portal_and_submitted(world: World) -> None:
    app = world.new_application("1500")
    client = sign_in(Client(), world.ombud.user)
    portal = client.get(reverse("web:ombud_home")).content.decode()
    assert reverse("web:ombud_edit", args=[app.reference]) in portal  # "Continue"
    data = edit_data(app, **{"need-0-amount": "1700", "send": "1"})
    response = client.post(reverse("web:ombud_edit", args=[app.reference]), data)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == State.SUBMITTED
    assert app.items.get().requested_amount == Money("1700", "SEK")


def test_another_ombud_cannot_edit(world: World, users: dict[str, Any]) -> None:
    app = returned_case(world)
    client = sign_in(Client(), users["other_ombud"])
    url = reverse("web:ombud_edit", args=[app.reference])
    assert client.get(url).status_code == 404
    assert (
        client.post(url, edit_data(app, **{"need-0-amount": "1", "send": "1"})).status_code == 404
    )
    assert app.items.get(position=1).requested_amount == Money("1500", "SEK")


def test_a_case_in_decision_cannot_be_edited(world: World) -> None:
    app = world.to_decision(world.new_application("1500"))
    client = sign_in(Client(), world.ombud.user)
    url = reverse("web:ombud_edit", args=[app.reference])
    response = client.post(url, edit_data(app, **{"need-0-amount": "1", "send": "1"}), follow=True)
    assert "only of a draft or of a case waiting for komplettering" in response.content.decode()
    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert app.items.get().requested_amount == Money("1500", "SEK")


def test_a_refused_edit_comes_back_with_what_was_typed(world: World) -> None:
    app = returned_case(world)
    client = sign_in(Client(), world.ombud.user)
    data = edit_data(app, **{"need-1-amount": "25000", "completion-answer": ANSWER, "send": "1"})
    response = client.post(reverse("web:ombud_edit", args=[app.reference]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert_invalid_at(html, "need-1-amount", "limit")
    assert 'value="25000' in field_tag(html, "need-1-amount")
    assert ANSWER in html  # the answer typed is kept
    app.refresh_from_db()
    assert app.state == State.NEEDS_COMPLETION


# --- item 9: fund rules up front, every problem at its field --------------------------------


def test_every_problem_is_shown_at_once_with_aria_invalid_on_each_field(world: World) -> None:
    world.fund.allowed_categories = ["glasses", "clothes"]
    world.fund.save()
    client = sign_in(Client(), world.ombud.user)
    data = new_application_data(
        world,
        **{
            "person-name": "",
            "person-region": "1X",
            "need-0-amount": "25000",  # over the limit per item
            "need-1-category": "housing",  # not granted by this fund
            "need-1-amount": "tusen",  # not an amount
        },
    )
    response = client.post(reverse("web:ombud_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert_invalid_at(html, "person-name", "required")
    assert_invalid_at(html, "person-region", "county code")
    assert_invalid_at(html, "need-0-amount", "limit")
    assert_invalid_at(html, "need-1-category", "does not grant support")
    assert_invalid_at(html, "need-1-amount", "is not an amount")
    summary = html[
        html.index('class="error-summary"') : html.index("</div>", html.index("error-summary"))
    ]
    assert "5 problems to fix" in summary
    for field_id in ("person-name", "person-region", "need-0-amount", "need-1-category"):
        assert f'href="#id_{field_id}"' in summary
    # Everything typed comes back.
    assert 'value="tusen"' in field_tag(html, "need-1-amount")
    assert not Application.objects.exists()


def test_fund_categories_are_restricted_to_the_chosen_fund(world: World) -> None:
    FundFactory(code="barn", name="Barnfonden", allowed_categories=["child_equipment"])
    world.fund.allowed_categories = ["glasses", "clothes"]
    world.fund.max_per_item = Money("20000", "SEK")
    world.fund.save()
    client = sign_in(Client(), world.ombud.user)
    checked = client.post(
        reverse("web:ombud_check"),
        {"fund": str(world.fund.pk), "need-TOTAL_FORMS": "1", "need-INITIAL_FORMS": "0"},
    )
    html = checked.content.decode()
    category = html[html.index('name="need-0-category"') : html.index("</select>")]
    assert 'value="glasses"' in category and 'value="clothes"' in category
    assert 'value="child_equipment"' not in category and 'value="housing"' not in category
    assert "SEK 20,000.00 per need item" in html

    # A category of another fund, posted by hand, is refused server-side at its field.
    data = new_application_data(world, **{"need-0-category": "child_equipment"})
    response = client.post(reverse("web:ombud_new"), data)
    assert response.status_code == 400
    assert_invalid_at(response.content.decode(), "need-0-category", "does not grant support")
    assert not Application.objects.exists()


def test_the_check_while_typing_marks_only_what_was_typed(world: World) -> None:
    client = sign_in(Client(), world.ombud.user)
    response = client.post(
        reverse("web:ombud_check"),
        {
            "fund": str(world.fund.pk),
            "need-TOTAL_FORMS": "2",
            "need-INITIAL_FORMS": "0",
            "need-0-category": "glasses",  # amount not typed yet: no problem shown
            "need-1-category": "glasses",
            "need-1-amount": "25000",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' not in field_tag(html, "need-0-amount")
    assert_invalid_at(html, "need-1-amount", "limit")
    assert not Application.objects.exists()


def test_without_javascript_choosing_the_fund_shows_its_categories(world: World) -> None:
    world.fund.allowed_categories = ["glasses"]
    world.fund.save()
    client = sign_in(Client(), world.ombud.user)
    data = new_application_data(world, choose_fund="1", **{"person-name": "", "need-0-amount": ""})
    response = client.post(reverse("web:ombud_new"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' not in html  # nothing checked yet
    assert "Nya glasögon" in html and 'value="AB"' in html  # what was typed is kept
    category = html[html.index('name="need-0-category"') :]
    assert 'value="glasses"' in category[: category.index("</select>")]
    assert 'value="clothes"' not in category[: category.index("</select>")]
