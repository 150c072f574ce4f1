"""Ombuds work from phones (issue #19, item 10), in Swedish, in a real browser (Chromium).

Every page of the ombud portal fits a 360 px screen without sideways scrolling, the worklist
fits 768 px, and axe-core finds no violation on any of them, on a phone or on a laptop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fund.models import Application
from tests.fixtures import World
from tests.web.browser_kit import (
    DESKTOP,
    SMALLEST_PHONE,
    Person,
    chromium,
    requires_chromium,
)

pytestmark = requires_chromium

TABLET = 768


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(monkeypatch) as launched:
        yield launched


def ombud_cases(world: World) -> dict[str, Application]:
    """The ombud's cases in the states whose pages look most different to them."""
    draft = world.new_application("1250.50", "18000", name="Ada Andersson")
    attest = world.run(world.new_application("900"), "submit", world.ombud.user)
    attest = world.run(attest, "request_attestation", world.officer)
    completion = world.run(world.new_application("3000", "450"), "submit", world.ombud.user)
    completion = world.run(
        completion,
        "request_completion",
        world.officer,
        message="Kvitto på kostnaden saknas för glasögonen, bifoga det eller förklara varför.",
    )
    approved = world.to_approved(world.new_application("6000"))
    return {"draft": draft, "attest": attest, "completion": completion, "approved": approved}


def check_page(person: Person, what: str, *, narrowest: int) -> None:
    """No sideways scroll at ``narrowest`` px; no axe violation there nor at 1366 px."""
    person.check_no_sideways_scroll(narrowest)
    with person.viewport(narrowest):
        person.check_axe()
    person.check_axe()
    person.screenshots(what)


def test_every_ombud_page_fits_360_px_without_sideways_scrolling(
    live_server: Any, browser: Any, world: World, artifacts_dir: Path
) -> None:
    cases = ombud_cases(world)
    ombud = Person(browser, live_server.url, artifacts_dir / "screenshots", "phone-ombud")
    try:
        ombud.go("/login/")
        check_page(ombud, "login", narrowest=SMALLEST_PHONE)
        ombud.sign_in(world.ombud.user, otp=False)
        assert ombud.page.url.endswith("/ombud/")
        check_page(ombud, "home", narrowest=SMALLEST_PHONE)
        with ombud.viewport(SMALLEST_PHONE):
            # Stacked as cards for the eye, still a table with column headers for the ear.
            table = ombud.page.locator("main table").aria_snapshot()
            assert table.count("columnheader") == 4 and table.count("- cell ") == 4 * 4, table
        ombud.go("/ombud/new/")
        check_page(ombud, "new-application", narrowest=SMALLEST_PHONE)
        for state, app in cases.items():
            ombud.go(f"/applications/{app.reference}/")
            assert app.reference in ombud.page.inner_text("h1")
            check_page(ombud, f"case-{state}", narrowest=SMALLEST_PHONE)
        # The person's data comes by htmx: no page load, and the page still fits and passes axe.
        with ombud.counting() as loads:
            ombud.page.click("#person a")
            ombud.page.wait_for_selector("#person dl")
        assert loads == []
        check_page(ombud, "case-person-shown", narrowest=SMALLEST_PHONE)
        with ombud.counting() as loads:
            ombud.go("/ombud/")
            ombud.page.click(f"main table a[href$='{cases['draft'].reference}/']")
            ombud.page.wait_for_load_state()
        assert len(loads) == 2, loads
        # The error pages are in the layout too, with their way back.
        ombud.go("/applications/A-2099-999999/")
        check_page(ombud, "not-found", narrowest=SMALLEST_PHONE)
        ombud.go("/worklist/")
        check_page(ombud, "forbidden", narrowest=SMALLEST_PHONE)
    finally:
        ombud.close()


def test_a_refused_application_still_fits_360_px(
    live_server: Any, browser: Any, world: World, artifacts_dir: Path
) -> None:
    """The form as it comes back with its problems is a page of the portal too."""
    ombud = Person(browser, live_server.url, artifacts_dir / "screenshots", "phone-ombud-refused")
    try:
        ombud.sign_in(world.ombud.user, otp=False)
        page = ombud.go("/ombud/new/")
        page.fill("#id_need-0-amount", "inte ett belopp")
        page.click("button[name=submit_now]")
        page.wait_for_load_state()
        assert page.locator(".message.error, .field-error").count() > 0
        check_page(ombud, "new-application-refused", narrowest=SMALLEST_PHONE)
    finally:
        ombud.close()


def test_the_worklist_fits_768_px_without_sideways_scrolling(
    live_server: Any, browser: Any, world: World, artifacts_dir: Path
) -> None:
    cases = ombud_cases(world)
    officer = Person(browser, live_server.url, artifacts_dir / "screenshots", "tablet-officer")
    try:
        officer.sign_in(world.officer, otp=True)
        page = officer.go("/worklist/")
        assert cases["attest"].reference in page.inner_text("main")
        check_page(officer, "worklist", narrowest=TABLET)
        officer.go(f"/applications/{cases['completion'].reference}/")
        check_page(officer, "case", narrowest=TABLET)
        assert officer.scroll_width(DESKTOP) <= DESKTOP
    finally:
        officer.close()
