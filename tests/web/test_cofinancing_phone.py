"""The co-financing page on a 360 px phone, in Swedish, in a real browser (Chromium).

A treasurer goes from the payouts page to the co-financing page and accrues, records money
received and a claim: five page loads from the payouts page (it, the co-financing page, one
per booking - each comes back to the page). Nothing but the figures' table may be wider than
the screen, and the table scrolls inside its ``.table-scroll`` box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cofinancing.demo import PROJECT_CODE, seed_cofinancing
from cofinancing.esf_ledger import esf_ledger
from cofinancing.models import EsfClaim
from tests.fixtures import World
from tests.signin import device_for
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]

PHONE = {"width": 360, "height": 740}

#: Elements reaching past the screen's right edge, outside the table's scroll box.
TOO_WIDE = """() => [...document.querySelectorAll('main *')]
  .filter(e => !e.closest('.table-scroll') && e.getBoundingClientRect().right > innerWidth + 0.5)
  .map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.name ? '[' + e.name + ']' : '')
       + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_a_treasurer_books_co_financing_income_on_a_360_px_phone(
    live_server: Any, world: World, artifacts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_otp.oath import totp
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    project = seed_cofinancing()
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="sv-SE", viewport=PHONE)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", world.treasurer.username)
        page.fill("#id_password", PASSWORD)
        page.fill("#id_otp_token", f"{totp(device_for(world.treasurer).bin_key):06d}")
        page.click("main button[type=submit]")
        page.wait_for_load_state()

        loads: list[str] = []
        page.on("load", lambda loaded: loads.append(loaded.url))
        page.goto(live_server.url + "/treasury/")
        page.click("a[href='/treasury/cofinancing/']")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Medfinansiering"
        assert page.evaluate(TOO_WIDE) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        scroller = page.locator(".table-scroll").first
        assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls
        page.screenshot(path=str(shots / "treasurer-cofinancing-phone.png"), full_page=True)

        card = page.locator(f"#project-{PROJECT_CODE}")
        card.locator("form", has=page.locator("[name=up_to]")).locator("button").click()
        page.wait_for_load_state()
        receipt = card.locator("form", has=page.locator("[name=date]"))
        receipt.locator("[name=amount]").fill("500000")
        receipt.locator("[name=date]").fill("2007-01-15")
        receipt.locator("[name=reference]").fill("ESF-UTB-2")
        receipt.locator("button").click()
        page.wait_for_load_state()
        claim = card.locator("form", has=page.locator("[name=period_to]"))
        claim.locator("[name=period_to]").fill("2007-06-30")
        claim.locator("[name=amount]").fill("48672,00")
        claim.locator("[name=submitted_on]").fill("2007-08-15")
        claim.locator("[name=reference]").fill("ESF-ANS-3")
        claim.locator("button").click()
        page.wait_for_load_state()
        assert page.locator(".message.error").count() == 0, page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        context.close()
        browser.close()

    books = esf_ledger(project)
    assert (str(books.recognised), str(books.received)) == ("802786.32", "900000.00")
    assert EsfClaim.objects.filter(project=project, number=3).exists()
    assert len(loads) == 5, loads
