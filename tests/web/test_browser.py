"""A whole case in a real browser (Playwright driving Debian's Chromium), in Swedish.

An ombud submits and attests; an officer takes the case through the statutory check; a
decision-maker approves; two treasurers batch and approve; the payout file downloads and
matches the pain.001 XSD; an auditor reads the whole trail and verifies the chain.
Screenshots of every page go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounting import pain001
from fund.models import Application
from tests.fixtures import World

# CHROMIUM, CHROMIUM_ARGS and PASSWORD are imported from here by older browser tests.
from tests.web.browser_kit import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Person,
    chromium,
    requires_chromium,
)

pytestmark = requires_chromium


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium(monkeypatch) as launched:
        yield launched


def test_a_case_from_application_to_payout_and_audit(
    live_server: Any, browser: Any, world: World, artifacts_dir: Path
) -> None:
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    base = live_server.url
    people = []

    def person(name: str) -> Person:
        people.append(Person(browser, base, shots, name))
        return people[-1]

    try:
        # The ombud registers the person and submits the application.
        ombud = person("ombud")
        ombud.sign_in(world.ombud.user, otp=False)
        page = ombud.go("/ombud/new/")
        assert page.locator("h1").inner_text() == "Ny ansökan"
        # Choosing the fund and typing an item are checked as the ombud types (htmx).
        ombud.fill("#fund", str(world.fund.pk))
        ombud.fill("#id_person-name", "Ada Andersson")
        ombud.fill("#id_person-region", "AB")
        ombud.fill("#id_need-0-category", "glasses")
        ombud.fill("#id_need-0-description", "<script>alert('x')</script> glasögon")
        ombud.fill("#id_need-0-amount", "1 250,50")
        ombud.shot("new-application")
        ombud.press("button[name=submit_now]")
        app = Application.objects.get(ombud=world.ombud)
        assert app.state == "submitted"
        assert "<script>alert('x')</script> glasögon" in page.inner_text(".description")
        assert "1\u00a0250,50\u00a0kr" in page.inner_text("main")
        ombud.shot("submitted")

        # The officer signs in with a one-time code and asks the ombud to attest.
        officer = person("officer")
        officer.sign_in(world.officer, otp=True)
        page = officer.page
        assert page.url.endswith("/worklist/")
        officer.shot("worklist")
        page.click(f"a:text('{app.reference}')")
        page.wait_for_load_state()
        # The application page's steps post by htmx: the answer is swapped in, no page load.
        officer.step("request_attestation")
        officer.shot("attestation-requested")

        # The ombud attests the need.
        page = ombud.go(f"/applications/{app.reference}/")
        page.check("#attest_need_confirmed")
        ombud.shot("attest")
        ombud.step("attest")

        # The officer runs the statutory check: every item's outcome, then one press saves
        # the assessment and sends the case to decision.
        page = officer.go(f"/applications/{app.reference}/")
        officer.step("start_statutory_check")
        page.select_option("select[name$='-outcome']", "not_obliged")
        officer.shot("statutory-check")
        officer.press("#assessment button[name=then][value=decision]")
        assert page.locator(".message.error, .problems").count() == 0
        app.refresh_from_db()
        assert app.state == "ready_for_decision"
        officer.shot("cleared")

        # A decision-maker approves the item in the one decision form (it asks first).
        decider = person("decider")
        decider.sign_in(world.decider, otp=True)
        page = decider.go(f"/applications/{app.reference}/")
        page.select_option("#decision-form select[name$='-verdict']", "approve")
        decider.shot("decision")
        decider.step("decide")
        assert decider.questions and app.reference in decider.questions[-1]
        app.refresh_from_db()
        assert app.state == "approved"

        # Two treasurers: one schedules and batches, the other approves; the file downloads.
        treasurer = person("treasurer")
        treasurer.sign_in(world.treasurer, otp=True)
        page = treasurer.page
        assert page.url.endswith("/treasury/")
        treasurer.press("form[action$='/treasury/schedule/'] button[type=submit]")
        page = treasurer.go("/treasury/")
        treasurer.shot("treasury")
        page.click("form[action$='/treasury/batches/new/'] button")
        page.wait_for_load_state()
        batch_url = page.url
        treasurer.shot("batch-created")
        page.click("form[action$='/approve/'] button")
        page.wait_for_load_state()
        assert "treasurer who did not" in page.inner_text(".message.error") or (
            "kassör som inte" in page.inner_text(".message.error")
        )

        second = person("treasurer2")
        second.sign_in(world.treasurer2, otp=True)
        page = second.page
        page.goto(batch_url)
        page.click("form[action$='/approve/'] button")
        page.wait_for_load_state()
        second.shot("batch-approved")

        page = treasurer.page
        page.goto(batch_url)
        with page.expect_download() as download_info:
            page.click("form[action$='/file/'] button")
        download = download_info.value
        content = Path(download.path()).read_bytes()
        pain001.validate(content)
        assert app.reference.encode() in content
        assert b"Ada" not in content
        page.goto(batch_url)
        page.click("form[action$='/mark_sent/'] button")
        page.wait_for_load_state()
        page.click("form[action$='/confirm_paid/'] button")
        page.wait_for_load_state()
        treasurer.shot("paid")
        app.refresh_from_db()
        assert app.state == "paid"

        # The auditor reads the whole trail and verifies the chain.
        auditor = person("auditor")
        auditor.sign_in(world.auditor, otp=True)
        page = auditor.go("/audit/")
        page.fill("#id_reference", app.reference)
        page.click("main form.filters button")
        page.wait_for_load_state()
        trail = page.inner_text(".timeline")
        for label in ("Ansökan skapad", "Inskickad", "Behovet intygat av ombudet", "Beviljad"):
            assert label in trail, label
        assert "Ada" not in page.content()
        auditor.shot("trail")
        page = auditor.go("/audit/verify/")
        assert "Kedjan är obruten" in page.inner_text("#verify-result")
        auditor.shot("verified")
        auditor.go("/audit/log/")
        auditor.shot("log")
        auditor.go("/dashboard/")
        assert auditor.page.locator("svg.chart").count() == 3
        auditor.shot("dashboard")
    finally:
        for p in people:
            p.close()
    assert len(list(shots.glob("*.png"))) >= 15
    assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == "true"
