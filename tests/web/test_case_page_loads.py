"""Issue #19: fewer page loads on the application page.

The officer saves the statutory assessment and sends the case to decision in one post; the
page's forms post by htmx and swap in the page's ``<main>`` (a refusal too, with what was
typed), while a form without JavaScript still posts and loads the whole page. The browser
counts are in tests/web/test_daily_work.py.
"""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from fund.models import Application
from fund.states import State
from tests.fixtures import World
from tests.web.conftest import sign_in
from workflows.models import StatutoryAssessment

#: What makes a form on the application page post by htmx and swap in the page's <main>.
SWAPS_MAIN = (
    'hx-boost="true"',
    'hx-target="#main"',
    'hx-select="#main"',
    'hx-swap="outerHTML"',
    'hx-push-url="false"',
)


def page(client: Client, app: Application) -> str:
    return client.get(reverse("web:application", args=[app.reference])).content.decode()


def forms_of(html: str) -> list[str]:
    """Each <form …> opening tag of the page's main."""
    main = html[html.index('<main id="main"') :]
    return re.findall(r"<form\b[^>]*>", main)


def two_items_in_check(world: World) -> tuple[Application, Any, Any]:
    app = world.to_statutory_check(world.new_application("1500", "800"))
    first, second = app.items.order_by("position")
    return app, first, second


def send_to_decision(client: Client, app: Application, data: dict[str, str], **kw: Any) -> Any:
    return client.post(
        reverse("web:application_assess", args=[app.reference]),
        {**data, "then": "decision"},
        **kw,
    )


def test_officer_saves_the_assessment_and_sends_the_case_to_decision_in_one_post(
    world: World,
) -> None:
    app, first, second = two_items_in_check(world)
    officer = sign_in(Client(), world.officer)
    assert 'name="then" value="decision"' in page(officer, app)

    response = send_to_decision(
        officer,
        app,
        {f"item{first.pk}-outcome": "not_obliged", f"item{second.pk}-outcome": "not_obliged"},
        follow=True,
    )

    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert StatutoryAssessment.objects.filter(need_item__application=app).count() == 2
    assert [str(m) for m in response.context["messages"]] == [
        f"The statutory assessment of 2 items in {app.reference} is saved and the case is sent "
        "to decision."
    ]


def test_a_refused_send_to_decision_keeps_what_was_typed_and_saves_nothing(world: World) -> None:
    app, first, second = two_items_in_check(world)
    officer = sign_in(Client(), world.officer)

    response = send_to_decision(
        officer,
        app,
        {
            f"item{first.pk}-outcome": "obliged",
            f"item{first.pk}-authority": "social_services",
            f"item{first.pk}-legal_basis": "sol_4_1",
            f"item{second.pk}-outcome": "obliged",
            f"item{second.pk}-authority": "social_services",
            f"item{second.pk}-legal_basis": "sol_4_1",
        },
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "refer the case to the authority instead" in html
    assert re.search(
        rf'<select[^>]*name="item{second.pk}-outcome"[^>]*>.*?<option value="obliged" selected',
        html,
        re.S,
    ), "what was typed stays"
    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    assert not StatutoryAssessment.objects.filter(need_item__application=app).exists()


def test_the_case_page_forms_post_by_htmx_and_swap_in_the_page(world: World) -> None:
    app, _first, _second = two_items_in_check(world)
    html = page(sign_in(Client(), world.officer), app)

    forms = [f for f in forms_of(html) if 'method="post"' in f]
    assert any("/assessment/" in f for f in forms) and len(forms) >= 2
    for form in forms:
        for attribute in SWAPS_MAIN:
            assert attribute in form, f"{attribute} missing in {form}"


def test_the_decision_and_the_second_signature_post_by_htmx(world: World) -> None:
    app = world.to_decision(world.new_application("1500", "800"))
    html = page(sign_in(Client(), world.decider), app)

    decision = next(f for f in forms_of(html) if 'id="decision-form"' in f)
    for attribute in SWAPS_MAIN:
        assert attribute in decision


def test_a_refused_htmx_post_answers_with_the_page_as_typed_and_status_400(world: World) -> None:
    """htmx leaves a 4xx answer out unless told; app.js swaps an answer aimed at ``#main``,
    so the status stays what it says (a refusal) for htmx and plain posts alike."""
    app, first, second = two_items_in_check(world)
    officer = sign_in(Client(), world.officer)

    response = send_to_decision(
        officer,
        app,
        {f"item{first.pk}-outcome": "not_obliged", f"item{second.pk}-outcome": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_BOOSTED="true",
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert '<main id="main"' in html
    assert 'aria-invalid="true"' in html
    assert re.search(
        rf'<select[^>]*name="item{first.pk}-outcome"[^>]*>.*?<option value="not_obliged" selected',
        html,
        re.S,
    )


def test_the_page_script_swaps_refusals_aimed_at_main_and_asks_in_the_capture_phase() -> None:
    """The contract the browser test exercises, checked where it is written: the confirm
    listener runs before htmx's own on the form, and stops the post when cancelled."""
    from pathlib import Path

    import web

    script = (Path(web.__file__).parent / "static" / "web" / "app.js").read_text()
    confirm = script[script.index('document.addEventListener("submit"') :]
    confirm = confirm[: confirm.index("}, true);") + len("}, true);")]
    assert "event.preventDefault();" in confirm and "event.stopPropagation();" in confirm
    assert "htmx:beforeSwap" in script and 'id === "main"' in script
