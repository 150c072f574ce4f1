"""Issue #20: the follow-up on the officer's case page.

In a fund that requires a follow-up before closing, the officer records it on the paid case's
page (the outcome, an optional evidence reference) and then closes the case, both swapped in
by htmx. Only the fund's officers see the form; a refusal comes back at the form, as the
service wrote it, with what was typed. The recorded follow-up shows on the page and in the
timeline; its evidence reference is the person's data, shown only to whom the case's texts are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.timezone import localtime

from audit.models import AuditEvent
from fund.models import Application
from fund.states import State
from tests.fixtures import World
from tests.web.browser_kit import CHROMIUM, Person, chromium, record_page_loads
from tests.web.conftest import sign_in
from workflows import services
from workflows.models import FollowUp

EVIDENCE = "Kvitto 2026-117"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}


def paid_case(world: World, *, follow_up_required: bool = True) -> Application:
    world.fund.follow_up_required = follow_up_required
    world.fund.save()
    return world.to_paid(world.new_application("1500"))


def page(client: Client, app: Application) -> str:
    return client.get(reverse("web:application", args=[app.reference])).content.decode()


def post_follow_up(client: Client, app: Application, data: dict[str, str], **kw: Any) -> Any:
    return client.post(reverse("web:application_follow_up", args=[app.reference]), data, **kw)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def follow_up_form(html: str) -> str:
    """The follow-up form's HTML ('' when the page has none)."""
    found = re.search(r'<form\b[^>]*id="follow-up-form".*?</form>', html, re.S)
    return found.group(0) if found else ""


def steps_on(html: str) -> set[str]:
    return set(re.findall(r'data-step="([a-z_]+)"', html))


def test_officer_records_follow_up_on_a_paid_case_and_then_closes_it_in_the_browser_flow(
    world: World,
) -> None:
    app = paid_case(world)
    officer = sign_in(Client(), world.officer)

    html = page(officer, app)
    form = follow_up_form(html)
    assert form, "the officer sees the follow-up form on the paid case"
    assert 'hx-target="#main"' in form and 'hx-select="#main"' in form, "swapped in by htmx"
    assert '<option value="" selected>' in form, "no outcome is chosen for the officer"
    assert not re.search(r'<option value="[a-z_]+" selected', form)
    assert "close" not in steps_on(html), "the close button waits for the follow-up"
    assert "requires a follow-up" in html and "comes first" in html

    response = post_follow_up(
        officer,
        app,
        {"outcome": "used_as_intended", "evidence_reference": EVIDENCE},
        follow=True,
        **HTMX,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"The follow-up of {app.reference} is recorded: Support used as intended. "
        "The case can now be closed."
    ]
    follow_up = FollowUp.objects.get(application=app)
    assert (follow_up.outcome, follow_up.recorded_by) == ("used_as_intended", world.officer)
    assert follow_up.evidence_reference == EVIDENCE
    html = response.content.decode()
    assert "close" in steps_on(html), "after the follow-up the case can be closed"

    response = officer.post(
        reverse("web:application_transition", args=[app.reference, "close"]),
        follow=True,
        **HTMX,
    )

    app.refresh_from_db()
    assert app.state == State.CLOSED
    assert messages_of(response) == [f"{app.reference} is closed."]


def test_the_case_page_shows_the_recorded_follow_up_with_outcome_who_and_when(
    world: World,
) -> None:
    app = paid_case(world)
    services.record_follow_up(
        app, actor=world.officer, outcome="partly_used", evidence_reference=EVIDENCE
    )
    follow_up = FollowUp.objects.get(application=app)
    world.officer.first_name, world.officer.last_name = "Olga", "Officer"
    world.officer.save()

    html = page(sign_in(Client(), world.officer), app)

    section = html[html.index('id="follow-up"') : html.index('id="actions-heading"')]
    assert "Support partly used" in section
    assert "Olga Officer" in section
    assert localtime(follow_up.recorded_at).strftime("%Y-%m-%d %H:%M") in section
    assert EVIDENCE in section
    assert follow_up_form(html), "another follow-up can still be recorded before closing"
    assert "close" in steps_on(html)


def test_the_follow_up_reads_in_swedish_on_the_page_and_in_the_timeline(world: World) -> None:
    app = paid_case(world)
    services.record_follow_up(app, actor=world.officer, outcome="used_as_intended")
    client = sign_in(Client(), world.officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"

    html = page(client, app)

    timeline = html[html.index('id="trail-heading"') :]
    assert "Uppföljning registrerad" in timeline
    assert "Stödet användes som avsett" in timeline
    section = html[html.index('id="follow-up"') : html.index('id="actions-heading"')]
    assert 'id="follow-up-heading">Uppföljning<' in section
    assert "Stödet användes som avsett" in section
    assert "Registrera uppföljningen" in section


def test_the_follow_up_evidence_reference_shows_only_where_the_case_texts_do(
    world: World,
) -> None:
    app = paid_case(world)
    services.record_follow_up(
        app, actor=world.officer, outcome="used_as_intended", evidence_reference=EVIDENCE
    )
    viewed = AuditEvent.objects.filter(action="personal_data.viewed")

    for user in (world.officer, world.decider):
        before = viewed.count()
        html = page(sign_in(Client(), user), app)
        assert EVIDENCE in html, user
        assert viewed.count() == before + 1, "the look is logged, once per page"

    before = viewed.count()
    html = page(sign_in(Client(), world.treasurer), app)
    assert "Support used as intended" in html, "the treasurer sees what was followed up"
    assert EVIDENCE not in html, "but not the person's data"
    assert viewed.count() == before


def test_the_evidence_reference_of_a_protected_person_is_hidden_from_an_officer_without_access(
    world: World,
) -> None:
    world.fund.follow_up_required = True
    world.fund.save()
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Skyddad Person", protected_identity=True, region="AB"
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    app = world.to_paid(app)
    services.record_follow_up(
        app, actor=world.officer, outcome="used_as_intended", evidence_reference=EVIDENCE
    )
    viewed = AuditEvent.objects.filter(action="personal_data.viewed").count()

    html = page(sign_in(Client(), world.officer), app)

    section = html[html.index('id="follow-up"') : html.index('id="actions-heading"')]
    assert "Support used as intended" in section
    assert EVIDENCE not in html
    assert AuditEvent.objects.filter(action="personal_data.viewed").count() == viewed


@pytest.mark.parametrize("role", ["decider", "treasurer", "ombud"])
def test_only_an_officer_of_the_fund_sees_the_follow_up_form_and_a_forged_post_records_nothing(
    world: World, role: str
) -> None:
    app = paid_case(world)
    user = world.ombud.user if role == "ombud" else getattr(world, role)
    client = sign_in(Client(), user)

    html = page(client, app)
    assert not follow_up_form(html), role
    assert "application_follow_up" not in html
    assert reverse("web:application_follow_up", args=[app.reference]) not in html

    response = post_follow_up(client, app, {"outcome": "used_as_intended"}, **HTMX)

    assert response.status_code == 403, role
    assert not FollowUp.objects.exists()
    assert not AuditEvent.objects.filter(action="application.follow_up").exists()


def test_an_officer_outside_the_fund_cannot_record_follow_up(world: World) -> None:
    app = paid_case(world)
    world.fund.handlers.remove(world.officer2)
    client = sign_in(Client(), world.officer2)

    response = post_follow_up(client, app, {"outcome": "used_as_intended"}, **HTMX)

    assert response.status_code == 404, "no hint that the case exists"
    assert not FollowUp.objects.exists()


def test_an_invalid_outcome_keeps_the_page_with_the_message_and_what_was_typed(
    world: World,
) -> None:
    app = paid_case(world)
    officer = sign_in(Client(), world.officer)

    for outcome in ("", "lost_in_the_post"):
        response = post_follow_up(
            officer, app, {"outcome": outcome, "evidence_reference": EVIDENCE}, **HTMX
        )

        assert response.status_code == 400
        html = response.content.decode()
        assert '<main id="main"' in html, "the page, to swap in"
        form = follow_up_form(html)
        assert "Choose how the support was used." in form, "at the form, as the service says"
        assert 'aria-invalid="true"' in form
        assert f'value="{EVIDENCE}"' in form, "what was typed stays"
    assert not FollowUp.objects.exists()
    app.refresh_from_db()
    assert app.state == State.PAID


def test_a_refused_follow_up_shows_the_services_words_at_the_form_with_what_was_typed(
    world: World,
) -> None:
    """The case was closed meanwhile (in another tab, by another officer): the service's
    refusal comes back at the form, nothing typed is lost."""
    app = paid_case(world, follow_up_required=False)
    officer = sign_in(Client(), world.officer)
    assert follow_up_form(page(officer, app)), "also where the fund does not require it"
    world.run(app, "close", world.officer2)

    response = post_follow_up(
        officer, app, {"outcome": "not_used", "evidence_reference": EVIDENCE}, **HTMX
    )

    assert response.status_code == 400
    form = follow_up_form(response.content.decode())
    assert "Follow-up is recorded after payment." in form
    assert re.search(r'<option value="not_used" selected', form)
    assert f'value="{EVIDENCE}"' in form
    assert not FollowUp.objects.exists()


def test_the_follow_up_form_appears_once_the_case_is_paid(world: World) -> None:
    world.fund.follow_up_required = True
    world.fund.save()
    app = world.to_approved(world.new_application("1500"))
    app = world.run(app, "schedule_payout", world.treasurer)
    officer = sign_in(Client(), world.officer)

    html = page(officer, app)
    assert not follow_up_form(html)
    assert 'id="follow-up"' not in html

    world.send_payouts(app)
    app = world.run(app, "confirm_paid", world.treasurer)
    assert follow_up_form(page(officer, app))


# --- in the browser: the page loads of the task (issue #19's measure) -----------------


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(monkeypatch) as launched:
        yield launched


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium")
def test_officer_records_the_follow_up_and_closes_the_case_in_one_page_load(
    world: World, live_server: Any, browser: Any, artifacts_dir: Path
) -> None:
    app = paid_case(world)
    officer = Person(browser, live_server.url, artifacts_dir / "screenshots", "daily-follow-up")
    try:
        officer.sign_in(world.officer, otp=True)
        assert officer.page.url.endswith("/worklist/")
        with officer.counting() as loads:
            page = officer.page
            page.click(f"#worklist a:text-is('{app.reference}')")
            page.wait_for_load_state()
            officer.check_axe()
            assert page.locator("button[data-step=close]").count() == 0, "follow-up first"
            officer.fill("#follow_up_outcome", "used_as_intended")
            officer.fill("#follow_up_evidence_reference", EVIDENCE)
            officer.screenshots("follow-up")
            officer.press("#follow-up-form button[type=submit]")
            assert app.reference in page.inner_text(".messages")
            assert EVIDENCE in page.inner_text("#follow-up")
            officer.check_axe()
            officer.screenshots("follow-up-recorded")
            officer.step("close")
        record_page_loads(artifacts_dir, "officer records the follow-up and closes the case", loads)
        assert officer.questions and app.reference in officer.questions[-1], "closing asks"
    finally:
        officer.close()

    assert len(loads) == 1, loads
    app.refresh_from_db()
    assert app.state == State.CLOSED
    assert FollowUp.objects.get(application=app).outcome == "used_as_intended"
