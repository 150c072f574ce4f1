"""What the Playwright tests share: Chromium, a person who counts page loads, axe and widths.

Issue #19 measures work in full page loads and asks that no page has an accessibility
violation or scrolls sideways on a phone. :class:`Person` counts every load of the main
frame (a form post that redirects is one; htmx swaps and downloads are none), runs the
vendored axe-core (``tests/web/vendor``, no network) with :meth:`Person.check_axe`, and
measures the page's width at a viewport with :meth:`Person.check_no_sideways_scroll`.

A form that posts by htmx is pressed with :meth:`Person.press` (it waits for the answer to be
swapped in); a field checked as it is typed is filled with :meth:`Person.fill`. The
questions irreversible steps ask (``window.confirm``) are answered yes, or no inside
:meth:`Person.refusing`; :attr:`Person.questions` keeps what was asked and
:attr:`Person.posts` what was posted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp

from tests.signin import device_for

__all__ = [
    "AXE",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DESKTOP",
    "PASSWORD",
    "PHONE",
    "SMALLEST_PHONE",
    "Person",
    "chromium",
    "record_page_loads",
    "requires_chromium",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "a-long-test-password"  # tests.factories.UserFactory
#: axe-core, vendored (see tests/web/vendor/README.md).
AXE = Path(__file__).parent / "vendor" / "axe.min.js"

#: Widths the issue names: a laptop, a common phone (screenshots), the narrowest phone.
DESKTOP = 1366
PHONE = 390
SMALLEST_PHONE = 360
HEIGHT = 900

#: Marks for a module of browser tests: they need Debian's Chromium.
requires_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]

#: Elements whose right edge passes the viewport: what makes a page scroll sideways.
TOO_WIDE = """() => [...document.body.querySelectorAll('*')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5
               && !e.closest('.table-scroll'))
  .slice(0, 12)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
       + (e.className && typeof e.className === 'string' ? '.' + e.className.trim()
          .split(/\\s+/).join('.') : '')
       + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + ' px)')"""

#: Counts htmx's answers (a swap settled, or a failed request) in every document the person
#: opens, so a test waits for the answer to the press it made (injected, so the CSP stays).
HTMX_ANSWERS = """
window.__htmxAnswers = 0;
["htmx:afterSettle", "htmx:responseError", "htmx:sendError", "htmx:swapError"].forEach(
  function (name) {
    document.addEventListener(name, function () { window.__htmxAnswers += 1; });
  });
"""

#: Runs axe on the whole document and keeps what a failure message needs.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))
  }));
}"""


@contextmanager
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's Chromium, headless, for one test (use it in a module's ``browser`` fixture)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety check must not refuse them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def describe_violations(violations: list[dict[str, Any]], where: str) -> str:
    """axe's findings as lines a person can act on: rule, impact, what, which elements."""
    lines = [f"axe found {len(violations)} violation(s) on {where}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['url']}>"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@dataclass
class Person:
    """One user in their own browser context (own cookies), counting the pages they load.

    ``page_loads`` counts load events of the main frame since the person started or since
    :meth:`counting` began: what the issue calls a full page load.
    """

    browser: Any
    base: str
    shots: Path
    name: str
    locale: str = "sv-SE"
    width: int = DESKTOP
    loaded: list[str] = field(default_factory=list)
    count: int = 0
    #: The questions ``window.confirm`` asked, in order.
    questions: list[str] = field(default_factory=list)
    #: Every POST the page sent (full posts and htmx's), as URLs.
    posts: list[str] = field(default_factory=list)
    answer_yes: bool = True

    def __post_init__(self) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.context = self.browser.new_context(
            locale=self.locale,
            accept_downloads=True,
            viewport={"width": self.width, "height": HEIGHT},
        )
        self.context.add_init_script(HTMX_ANSWERS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.page.on("load", lambda loaded: self.loaded.append(loaded.url))
        self.page.on("dialog", self._answer)
        self.page.on("request", self._note_post)

    def _note_post(self, request: Any) -> None:
        if request.method == "POST":
            self.posts.append(request.url)

    def _answer(self, dialog: Any) -> None:
        self.questions.append(dialog.message)
        if self.answer_yes:
            dialog.accept()
        else:
            dialog.dismiss()

    @contextmanager
    def refusing(self) -> Iterator[None]:
        """Inside the block, every question an irreversible step asks is answered "no"."""
        self.answer_yes = False
        try:
            yield
        finally:
            self.answer_yes = True

    def htmx_answers(self) -> int:
        return int(self.page.evaluate("window.__htmxAnswers || 0"))

    def wait_for_answer(self, before: int) -> None:
        """Until htmx answered once more than ``before`` (a function, not a string: the
        CSP forbids eval)."""
        self.page.wait_for_function("(before) => (window.__htmxAnswers || 0) > before", arg=before)

    def press(self, selector: str) -> Any:
        """Press a submit button and wait for the answer: swapped in by htmx when its form
        posts by htmx (no page load), else the page it loads. Fails on an error message."""
        button = self.page.locator(selector).first
        by_htmx = button.evaluate("b => !!(b.form && b.form.getAttribute('hx-target'))")
        before = self.htmx_answers()
        button.click()
        if by_htmx:
            self.wait_for_answer(before)
        else:
            self.page.wait_for_load_state()
        return self.page

    def fill(self, selector: str, value: str) -> None:
        """Type into a field and leave it; when the field is checked as it is typed (an
        htmx request on change), wait until the check's answer is in."""
        field = self.page.locator(selector)
        checked = field.evaluate("f => !!f.closest('[hx-post], [hx-get]')")
        before = self.htmx_answers()
        if field.evaluate("f => f.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
            field.dispatch_event("change")
        if checked:
            self.wait_for_answer(before)

    @property
    def page_loads(self) -> int:
        return len(self.loaded)

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """The URLs loaded inside the block (its ``len`` is the count the issue measures)."""
        start = len(self.loaded)
        during: list[str] = []
        try:
            yield during
        finally:
            during.extend(self.loaded[start:])

    def go(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def shot(self, what: str) -> Path:
        """The whole page at the current viewport."""
        self.count += 1
        path = self.shots / f"{self.name}-{self.count:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def screenshots(self, what: str) -> list[Path]:
        """The page at 1366 and at 390 px (for the README's tour); the viewport is restored."""
        self.count += 1
        paths = []
        for width in (DESKTOP, PHONE):
            path = self.shots / f"{self.name}-{self.count:02d}-{what}-{width}.png"
            with self.viewport(width):
                self.page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        return paths

    @contextmanager
    def viewport(self, width: int) -> Iterator[None]:
        before = self.page.viewport_size or {"width": self.width, "height": HEIGHT}
        self.page.set_viewport_size({"width": width, "height": before["height"]})
        try:
            yield
        finally:
            self.page.set_viewport_size(before)

    def scroll_width(self, width: int) -> int:
        """``document.documentElement.scrollWidth`` with the viewport ``width`` px wide."""
        with self.viewport(width):
            return int(self.page.evaluate("document.documentElement.scrollWidth"))

    def check_no_sideways_scroll(self, width: int) -> None:
        """Fail, naming the widest elements, if the page scrolls sideways at ``width`` px.

        A ``.table-scroll`` box may scroll inside itself; the page may not.
        """
        with self.viewport(width):
            measured = int(self.page.evaluate("document.documentElement.scrollWidth"))
            culprits = [] if measured <= width else self.page.evaluate(TOO_WIDE)
        assert measured <= width, (
            f"{self.page.url} is {measured} px wide at a {width} px viewport; "
            f"past the edge: {', '.join(culprits) or '(nothing found)'}"
        )

    def check_axe(self) -> None:
        """Run the vendored axe-core on the page; fail with a readable list of violations.

        Injected through the DevTools protocol, so the site's Content-Security-Policy (no
        inline scripts) stays as it is.
        """
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = self.page.evaluate(RUN_AXE)
        assert not violations, describe_violations(violations, self.page.url)

    def sign_in(self, user: Any, *, otp: bool) -> None:
        page = self.go("/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        if otp:
            page.fill("#id_otp_token", f"{totp(device_for(user).bin_key):06d}")
        self.shot("login")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert "/login/" not in page.url, page.inner_text("main")

    def step(self, name: str) -> None:
        """Run a step by its button (by htmx on the application page) and expect no error."""
        self.press(f"button[data-step={name}]")
        errors = self.page.locator(".message.error, .problems")
        assert errors.count() == 0, errors.all_inner_texts()

    def close(self) -> None:
        self.context.close()


def record_page_loads(artifacts_dir: Path, task: str, loads: list[str]) -> None:
    """Append a measured count to artifacts/page-loads.jsonl for the coordinator's report."""
    line = json.dumps({"task": task, "page_loads": len(loads), "urls": loads})
    with (artifacts_dir / "page-loads.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")
