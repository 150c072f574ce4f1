"""Issue #19's goals, measured in a real browser (Playwright driving Debian's Chromium).

Each test is one goal, named after it: it counts the full page loads of the task from the
page where the task starts (``person.counting()``; an htmx swap or a download is no load),
records the count in artifacts/page-loads.jsonl and asserts it. On every page and after every
swap it visits, axe-core (vendored) finds no violation; the ombud's pages fit 360 px and the
worklist 768 px without sideways scrolling; the main pages are shot at 1366 and 390 px for
the README's tour (artifacts/screenshots/).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from moneyed import Money

from accounting import pain001
from accounting.models import PaymentBatch
from accounting.payouts import batches
from fund.models import Application
from fund.states import State
from tests.fixtures import World
from tests.web.browser_kit import (
    SMALLEST_PHONE,
    Person,
    chromium,
    record_page_loads,
    requires_chromium,
)
from workflows import services
from workflows.models import Decision, DecisionStatus, StatutoryAssessment

pytestmark = requires_chromium

#: The worklist must fit a tablet held upright.
TABLET = 768


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(monkeypatch) as launched:
        yield launched


@pytest.fixture
def people(live_server: Any, browser: Any, artifacts_dir: Path) -> Iterator[Any]:
    """``people(name)`` gives a new person in their own browser context (Swedish)."""
    shots = artifacts_dir / "screenshots"
    made: list[Person] = []

    def person(name: str) -> Person:
        made.append(Person(browser, live_server.url, shots, f"daily-{name}"))
        return made[-1]

    yield person
    for each in made:
        each.close()


def checked(person: Person) -> None:
    """The page as it is now has no accessibility violation and no error message."""
    person.check_axe()


def open_case(person: Person, app: Application) -> Any:
    """From the worklist, the case's link (one page load)."""
    page = person.page
    page.click(f"#worklist a:text-is('{app.reference}')")
    page.wait_for_load_state()
    assert app.reference in page.inner_text("h1")
    return page


def attested(world: World, *amounts: str) -> Application:
    app = world.run(world.new_application(*amounts), "submit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    return world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)


def in_decision(world: World, *amounts: str) -> Application:
    return world.to_decision(world.new_application(*amounts))


# --- the ombud ------------------------------------------------------------------------


def test_ombud_applies_for_a_two_item_case_in_at_most_two_page_loads(
    world: World, people: Any, artifacts_dir: Path
) -> None:
    ombud = people("ombud")
    ombud.sign_in(world.ombud.user, otp=False)
    assert ombud.page.url.endswith("/ombud/")
    checked(ombud)
    ombud.check_no_sideways_scroll(SMALLEST_PHONE)

    with ombud.counting() as loads:
        page = ombud.page
        page.click("header a[href$='/ombud/new/']")
        page.wait_for_load_state()
        checked(ombud)
        ombud.fill("#fund", str(world.fund.pk))
        assert world.fund.name in page.inner_text("#need-items")
        ombud.fill("#id_person-name", "Ada Andersson")
        ombud.fill("#id_person-region", "AB")
        ombud.fill("#id_need-0-category", "glasses")
        ombud.fill("#id_need-0-description", "Glasögon")
        ombud.fill("#id_need-0-amount", "1 250,50")
        ombud.fill("#id_need-1-category", "medicine")
        ombud.fill("#id_need-1-description", "Medicin")
        ombud.fill("#id_need-1-amount", "600")
        checked(ombud)
        ombud.check_no_sideways_scroll(SMALLEST_PHONE)
        ombud.screenshots("new-application")
        ombud.press("button[name=submit_now]")
    record_page_loads(artifacts_dir, "ombud applies for a two-item case", loads)

    app = Application.objects.get(ombud=world.ombud)
    assert app.state == State.SUBMITTED
    assert app.items.count() == 2
    assert len(loads) <= 2, loads
    checked(ombud)
    ombud.check_no_sideways_scroll(SMALLEST_PHONE)
    ombud.screenshots("case-submitted")


def test_a_wrong_input_shows_every_problem_at_once_at_its_field(world: World, people: Any) -> None:
    ombud = people("ombud-wrong")
    ombud.sign_in(world.ombud.user, otp=False)
    page = ombud.go("/ombud/new/")
    ombud.fill("#fund", str(world.fund.pk))
    ombud.fill("#id_need-0-category", "glasses")
    ombud.fill("#id_need-0-amount", "mycket")
    ombud.fill("#id_need-1-category", "medicine")
    ombud.fill("#id_need-1-amount", "-5")

    ombud.press("button[name=submit_now]")

    assert not Application.objects.exists()
    invalid = page.locator("main [aria-invalid='true']")
    names = {invalid.nth(i).get_attribute("name") for i in range(invalid.count())}
    assert {"person-name", "need-0-amount", "need-1-amount"} <= names, names
    for name in ("person-name", "need-0-amount"):
        field = page.locator(f"[name='{name}']")
        described = field.get_attribute("aria-describedby") or ""
        assert any(page.locator(f"#{ident}.field-error").count() for ident in described.split()), (
            f"{name}'s problem is not at the field"
        )
    assert page.input_value("#id_need-0-amount") == "mycket", "what was typed stays"
    checked(ombud)
    ombud.check_no_sideways_scroll(SMALLEST_PHONE)
    ombud.screenshots("every-problem-at-once")


# --- the officer ----------------------------------------------------------------------


def test_officer_assesses_a_two_item_case_and_sends_it_to_decision_in_at_most_two_page_loads(
    world: World, people: Any, artifacts_dir: Path
) -> None:
    app = attested(world, "1500", "800")
    first, second = app.items.order_by("position")
    officer = people("officer")
    officer.sign_in(world.officer, otp=True)
    assert officer.page.url.endswith("/worklist/")
    checked(officer)
    officer.check_no_sideways_scroll(TABLET)

    with officer.counting() as loads:
        page = open_case(officer, app)
        checked(officer)
        officer.step("start_statutory_check")
        checked(officer)
        # A refused press (the remainder is missing) comes back, swapped in, with what was
        # typed and the focus on the problem.
        page.select_option(f"#id_item{first.pk}-outcome", "not_obliged")
        page.select_option(f"#id_item{second.pk}-outcome", "partly")
        page.select_option(f"#id_item{second.pk}-authority", "social_services")
        page.select_option(f"#id_item{second.pk}-legal_basis", "sol_4_1")
        officer.press("#assessment button[name=then][value=decision]")
        assert page.evaluate("document.activeElement.name") == (f"item{second.pk}-grantable_amount")
        assert page.input_value(f"#id_item{second.pk}-legal_basis") == "sol_4_1"
        app.refresh_from_db()
        assert app.state == State.STATUTORY_CHECK
        checked(officer)
        page.fill(f"#id_item{second.pk}-grantable_amount", "300")
        officer.screenshots("assessment")
        officer.press("#assessment button[name=then][value=decision]")
    record_page_loads(artifacts_dir, "officer assesses a two-item case and sends it", loads)

    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert StatutoryAssessment.objects.filter(need_item__application=app).count() == 2
    assert len(loads) <= 2, loads
    assert app.reference in page.inner_text(".messages")
    assert page.evaluate("document.activeElement.classList.contains('messages')")
    checked(officer)
    officer.screenshots("sent-to-decision")


# --- the decision-makers --------------------------------------------------------------


def test_decision_maker_decides_two_items_with_one_reduced_in_one_page_load(
    world: World, people: Any, artifacts_dir: Path
) -> None:
    world.fund.two_signature_threshold = Money(Decimal("1000"), "SEK")
    world.fund.save()
    app = in_decision(world, "1500", "800")
    first, second = app.items.order_by("position")
    decider = people("decider")
    decider.sign_in(world.decider, otp=True)

    with decider.counting() as loads:
        page = open_case(decider, app)
        checked(decider)
        page.select_option(f"#id_item{first.pk}-verdict", "approve")
        page.select_option(f"#id_item{second.pk}-verdict", "reduce")
        page.fill(f"#id_item{second.pk}-amount", "500")
        page.select_option(f"#id_item{second.pk}-reason", "reduced_to_limit")
        decider.screenshots("decision")
        decider.step("decide")
    record_page_loads(artifacts_dir, "decision-maker decides two items, one reduced", loads)

    assert len(loads) == 1, loads
    assert decider.questions and app.reference in decider.questions[-1]
    decision = Decision.objects.get(application=app)
    assert decision.status == DecisionStatus.AWAITING_SIGNATURE
    assert decision.total_approved.amount == Decimal("2000")
    assert page.locator("#pending-decision").count() == 1
    checked(decider)
    decider.screenshots("awaiting-second-signature")


def test_co_signer_signs_what_they_see_in_one_page_load(
    world: World, people: Any, artifacts_dir: Path
) -> None:
    world.fund.two_signature_threshold = Money(Decimal("1000"), "SEK")
    world.fund.save()
    app = in_decision(world, "1500", "800")
    first, second = app.items.order_by("position")
    services.decide_items(
        app,
        actor=world.decider,
        verdicts=[
            services.ItemVerdict(item=first.pk, verdict="approve"),
            services.ItemVerdict(
                item=second.pk, verdict="reduce", amount="500", reason="reduced_to_limit"
            ),
        ],
    )
    cosigner = people("cosigner")
    cosigner.sign_in(world.decider2, otp=True)

    with cosigner.counting() as loads:
        page = cosigner.go("/worklist/?awaiting_signature=on")
        checked(cosigner)
        page = open_case(cosigner, app)
        signing = page.inner_text("#pending-decision")
        assert "500,00" in signing and "1\u00a0500,00" in signing, "every item, as signed"
        checked(cosigner)
        cosigner.screenshots("co-signer")
        cosigner.press("#pending-decision button[type=submit]")
    record_page_loads(artifacts_dir, "co-signer signs", loads[1:])

    assert len(loads[1:]) == 1, loads  # the filter's list is where the task starts
    app.refresh_from_db()
    assert app.state == State.APPROVED
    assert page.locator(".message.error").count() == 0
    checked(cosigner)


# --- the treasurers -------------------------------------------------------------------


def test_treasurers_go_from_approved_cases_to_an_approved_batch_and_a_file_in_six_page_loads(
    world: World, people: Any, artifacts_dir: Path
) -> None:
    one, two = (
        world.to_approved(world.new_application("1500", "700")),
        world.to_approved(world.new_application("300")),
    )
    first, second = people("treasurer"), people("treasurer2")
    first.sign_in(world.treasurer, otp=True)
    second.sign_in(world.treasurer2, otp=True)

    with first.counting() as first_loads, second.counting() as second_loads:
        page = first.go("/treasury/")
        assert one.reference in page.inner_text("main") and two.reference in page.inner_text("main")
        checked(first)
        first.screenshots("treasury")
        first.press("form[action$='/treasury/schedule/'] button[type=submit]")
        checked(first)
        first.press("form[action$='/treasury/batches/new/'] button[type=submit]")
        batch = PaymentBatch.objects.get()
        page = second.go("/treasury/")
        checked(second)
        second.press(f"form[action$='/treasury/batches/{batch.pk}/approve/'] button")
        assert second.page.url.endswith(f"/treasury/batches/{batch.pk}/")
        checked(second)
        second.screenshots("batch-approved")
        with second.page.expect_download() as download_info:
            second.page.click(f"form[action$='/treasury/batches/{batch.pk}/file/'] button")
    loads = first_loads + second_loads
    record_page_loads(artifacts_dir, "treasurers: approved cases to batch and file", loads)

    pain001.validate(Path(download_info.value.path()).read_bytes())
    batch.refresh_from_db()
    assert batch.status == "exported" or batch.status == "approved"
    assert batch.orders.count() == 3
    assert len(loads) <= 6, loads


# --- search ---------------------------------------------------------------------------


def test_officer_finds_a_case_on_page_two_by_a_partial_reference_from_the_worklist(
    world: World, people: Any, artifacts_dir: Path
) -> None:
    apps = [world.new_application("500") for _ in range(27)]
    wanted = apps[-1]
    officer = people("search")
    officer.sign_in(world.officer, otp=True)
    page = officer.page
    assert wanted.reference not in page.inner_text("#worklist"), "it is on page 2"

    with officer.counting() as loads:
        before = officer.htmx_answers()
        page.fill("form.filters input[name=q]", wanted.reference[-4:])
        page.press("form.filters input[name=q]", "Enter")
        officer.wait_for_answer(before)
        page.wait_for_function(
            "(ref) => document.querySelector('#worklist').innerText.includes(ref)",
            arg=wanted.reference,
        )
    record_page_loads(artifacts_dir, "officer finds a case by a partial reference", loads)

    assert len(loads) == 0, loads
    assert page.locator("#worklist a", has_text="A-").count() == 1
    checked(officer)
    officer.check_no_sideways_scroll(TABLET)
    officer.screenshots("search")


# --- confirmations --------------------------------------------------------------------


def test_dismissing_the_question_before_a_rejection_changes_nothing(
    world: World, people: Any
) -> None:
    app = in_decision(world, "1500", "800")
    first, second = app.items.order_by("position")
    decider = people("reject")
    decider.sign_in(world.decider, otp=True)
    page = decider.go(f"/applications/{app.reference}/")
    for item in (first, second):
        page.select_option(f"#id_item{item.pk}-verdict", "reject")
        page.select_option(f"#id_item{item.pk}-reason", "need_not_shown")
    posts = len(decider.posts)

    with decider.refusing():
        page.click("#decision-form button[data-step=decide]")
    page.wait_for_timeout(300)

    assert decider.questions and app.reference in decider.questions[-1]
    assert len(decider.posts) == posts, "nothing was sent"
    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert not Decision.objects.filter(application=app).exists()
    assert page.input_value(f"#id_item{second.pk}-verdict") == "reject", "the form is as left"

    decider.step("decide")
    app.refresh_from_db()
    assert app.state == State.REJECTED
    checked(decider)


def test_dismissing_the_question_before_cancelling_a_batch_changes_nothing(
    world: World, people: Any
) -> None:
    app = world.run(
        world.to_approved(world.new_application("1500")), "schedule_payout", world.treasurer
    )
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    treasurer = people("cancel")
    treasurer.sign_in(world.treasurer2, otp=True)
    page = treasurer.go(f"/treasury/batches/{batch.pk}/")
    posts = len(treasurer.posts)

    with treasurer.refusing():
        page.click(f"form[action$='/treasury/batches/{batch.pk}/cancel/'] button")
    page.wait_for_timeout(300)

    with translation.override("sv"):
        name = batch.display_name
    assert treasurer.questions and name in treasurer.questions[-1]
    assert len(treasurer.posts) == posts, "nothing was sent"
    batch.refresh_from_db()
    assert batch.status == "draft"

    treasurer.press(f"form[action$='/treasury/batches/{batch.pk}/cancel/'] button")
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    checked(treasurer)
