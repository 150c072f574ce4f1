"""Every page of the ``web`` namespace, for every role: what it may and what it may not.

The table names each URL once. A new page without a row fails
``test_every_page_has_a_rule``, so no page can ship without its permission spec.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from tests.fixtures import World
from tests.web.conftest import ROLES, sign_in
from tests.web.query_costs import audit_lock_statements

OK = "ok"  # 200, or a redirect that is not to the login page
LOGIN = "login"  # redirected to the login page
FORBIDDEN = 403
NOT_FOUND = 404  # the case exists, but not for this user: no hint that it does
AS_TYPED = 400  # allowed in: the empty form comes back refused, with what was typed

ANY_SIGNED_IN = dict.fromkeys(ROLES, OK)
ONLY: Any = lambda *allowed: {role: OK if role in allowed else FORBIDDEN for role in ROLES}  # noqa: E731


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


#: url name -> (method, arguments, expected outcome per role). Anonymous users always get the
#: login page (except for the login page itself).
PAGES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "home": ("get", "", ANY_SIGNED_IN),
    "login": ("get", "", ANY_SIGNED_IN),
    "logout": ("post", "", dict.fromkeys(ROLES, LOGIN)),  # signed out: back to the login
    "no_role": ("get", "", ANY_SIGNED_IN),
    "worklist": ("get", "", ONLY("officer", "decision_maker")),
    "worklist_bulk": ("post", "", ONLY("officer")),
    "worklist_filter_save": ("post", "", ONLY("officer", "decision_maker")),
    "worklist_filter_delete": ("post", "", ONLY("officer", "decision_maker")),
    "application": (
        "get",
        "app",
        _with(ONLY("ombud", "officer", "decision_maker", "treasurer"), other_ombud=NOT_FOUND),
    ),
    "application_person": (
        "get",
        "app",
        _with(ONLY("ombud", "officer", "decision_maker"), other_ombud=NOT_FOUND),
    ),
    "application_transition": (
        "post",
        "step",
        _with(ONLY("ombud", "officer", "decision_maker", "treasurer"), other_ombud=NOT_FOUND),
    ),
    # An empty form reaches the view and comes back refused, as typed (400), to whom may post it.
    "application_assess": ("post", "app", _with(ONLY("officer"), officer=AS_TYPED)),
    "application_decide": ("post", "app", _with(ONLY("decision_maker"), decision_maker=AS_TYPED)),
    # The case is not paid: the empty form comes back refused, as typed (400), to its officer.
    "application_follow_up": ("post", "app", _with(ONLY("officer"), officer=AS_TYPED)),
    "application_grant_access": ("post", "app", ONLY("decision_maker")),
    "application_revoke_access": ("post", "app", ONLY("decision_maker")),
    "application_reassign_ombud": ("post", "app", ONLY("officer")),
    "ombud_home": ("get", "", ONLY("ombud", "other_ombud")),
    "ombud_new": ("get", "", ONLY("ombud", "other_ombud")),
    "ombud_check": ("post", "", ONLY("ombud", "other_ombud")),
    # The case is approved: its ombud is sent back to it (it is no longer theirs to change).
    "ombud_edit": ("get", "app", _with(ONLY("ombud"), other_ombud=NOT_FOUND)),
    "treasury": ("get", "", ONLY("treasurer")),
    "payee_approve": ("post", "payee", ONLY("treasurer")),
    "batch_create": ("post", "", ONLY("treasurer")),
    "batch": ("get", "batch", ONLY("treasurer")),
    "batch_file": ("post", "batch", ONLY("treasurer")),
    "batch_action": ("post", "batch_action", ONLY("treasurer")),
    "bank_exception_resolve": ("post", "", ONLY("treasurer")),
    # No file chosen: the form comes back refused (400) to the treasurer.
    "bank_file_upload": ("post", "", _with(ONLY("treasurer"), treasurer=AS_TYPED)),
    "schedule_payouts": ("post", "", ONLY("treasurer")),
    "period_close_step": ("post", "period_close_step", ONLY("treasurer")),
    "year_end": ("get", "", ONLY("treasurer")),
    "year_end_step": ("post", "year_end_step", ONLY("treasurer")),
    "cofinancing": ("get", "", ONLY("treasurer")),
    "cofinancing_action": ("post", "cofinancing_action", ONLY("treasurer")),
    "cofinancing_report": ("get", "", ONLY("treasurer", "auditor")),
    "exports": ("get", "", ONLY("treasurer", "administrator")),
    "export_job": ("get", "job", ONLY("treasurer", "administrator")),
    "export_job_progress": ("get", "job", ONLY("treasurer", "administrator")),
    "export_job_file": ("get", "job", ONLY("treasurer", "administrator")),
    "audit_home": ("get", "", ONLY("auditor")),
    "audit_log": ("get", "", ONLY("auditor")),
    "audit_event": ("get", "event", ONLY("auditor")),
    "audit_verify": ("get", "", ONLY("auditor")),
    "audit_checkpoints": ("get", "", ONLY("auditor")),
    "audit_checkpoint_file": ("get", "", ONLY("auditor")),
    "audit_export": ("get", "ref", ONLY("auditor")),
    "audit_staff_directory": ("get", "", ONLY("auditor")),
    "dashboard": (
        "get",
        "",
        ONLY("officer", "decision_maker", "treasurer", "auditor", "administrator"),
    ),
}

PUBLIC = {"login"}


def web_url_names(patterns: list[Any] | None = None) -> set[str]:
    """The names of the ``web`` namespace's pages (of the site, or of ``patterns``)."""
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "web" and entry.name:
                names.add(entry.name)

    walk(get_resolver().url_patterns if patterns is None else patterns, None)
    return names


def rule_gaps(names: set[str]) -> dict[str, set[str]]:
    """Pages without a rule in PAGES, and rules for pages that do not exist."""
    return {"without a rule": names - set(PAGES), "rule but no page": set(PAGES) - names}


@pytest.mark.evidence("security")
def test_every_page_has_a_rule(evidence: Any) -> None:
    """Every page of the web namespace has a row in the permission table, and no row is stale."""
    names = web_url_names()
    assert names, "the web namespace has pages"
    gaps = rule_gaps(names)
    evidence.row(tried=f"{len(names)} pages of the web namespace", outcome=f"{gaps}")
    assert gaps == {"without a rule": set(), "rule but no page": set()}


@pytest.mark.evidence("security")
def test_a_new_page_without_a_rule_is_detected(evidence: Any) -> None:
    """A page added to the web namespace without a rule in PAGES fails the coverage test."""

    def new_view(request: Any) -> Any:
        raise AssertionError("never called")

    extra = path("", include(([path("reports/", new_view, name="reports")], "web")))
    gaps = rule_gaps(web_url_names([*get_resolver().url_patterns, extra]))
    evidence.row(tried="the site plus a web page 'reports' without a rule", outcome=f"{gaps}")
    assert gaps == {"without a rule": {"reports"}, "rule but no page": set()}


def outcome(response: Any) -> Any:
    if response.status_code in (301, 302):
        return LOGIN if response["Location"].startswith(reverse("web:login")) else OK
    if response.status_code == 200:
        return OK
    return response.status_code


def _request(client: Client, name: str, case: dict[str, Any]) -> tuple[str, Any]:
    """Request page ``name`` as the table says; (what was tried, the response)."""
    method, args, _rules = PAGES[name]
    url = reverse(f"web:{name}", kwargs=case[args])
    return f"{method.upper()} {url}", getattr(client, method)(url)


@pytest.mark.evidence("security")
def test_anonymous_users_get_the_login_page(case: dict[str, Any], evidence: Any) -> None:
    """Without signing in, every page but the login page sends to the login page."""
    got, expected = {}, {}
    for name in PAGES:
        tried, response = _request(Client(), name, case)
        got[name] = outcome(response)
        expected[name] = OK if name in PUBLIC else LOGIN
        evidence.row(
            tried=f"{tried} anonymously",
            outcome=str(got[name]),
            matrix="web pages",
            target=name,
            role="anonymous",
        )
    assert got == expected


@pytest.mark.evidence("security")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_it_may_and_no_more(
    role: str, users: dict[str, Any], case: dict[str, Any], evidence: Any
) -> None:
    """Each role x every page: what it may open and what it may not.

    One request per page; none of them changes data (they lack the data a change needs).
    """
    client = sign_in(Client(), users[role])
    got = {}
    for name in sorted(PAGES, key=lambda n: n == "logout"):  # signing out last
        tried, response = _request(client, name, case)
        got[name] = outcome(response)
        evidence.row(
            tried=f"{tried} as {role}",
            outcome=str(got[name]),
            matrix="web pages",
            target=name,
            role=role,
        )
    assert got == {name: rules[role] for name, (_m, _a, rules) in PAGES.items()}


@pytest.mark.evidence("security")
def test_pages_that_change_data_refuse_get(
    users: dict[str, Any], case: dict[str, Any], evidence: Any
) -> None:
    """Pages that change data answer GET with 405, even for a role that may POST to them."""
    for name, (method, args, rules) in PAGES.items():
        if method != "post":
            continue
        role = next((r for r, expected in rules.items() if expected in (OK, AS_TYPED)), "ombud")
        client = sign_in(Client(), users[role])
        url = reverse(f"web:{name}", kwargs=case[args])
        response = client.get(url)
        evidence.row(tried=f"GET {url} as {role}", outcome=str(response.status_code))
        assert response.status_code == 405, name


STAFF = ("officer", "decision_maker", "treasurer", "auditor", "administrator")


@pytest.mark.evidence("security")
@pytest.mark.parametrize("role", STAFF)
def test_staff_without_the_second_factor_are_sent_to_the_login_page(
    role: str, users: dict[str, Any], case: dict[str, Any], evidence: Any
) -> None:
    """Staff signed in with a password only: every page sends them to the one-time code step."""
    client = Client()
    client.force_login(users[role])  # password only, no OTP device verified
    got, expected = {}, {}
    for name in sorted(PAGES, key=lambda n: n == "logout"):  # signing out last
        tried, response = _request(client, name, case)
        got[name] = outcome(response)
        # The login page itself asks for the code; everything else sends there.
        expected[name] = OK if name in PUBLIC else LOGIN
        evidence.row(tried=f"{tried} as {role} without a one-time code", outcome=str(got[name]))
    assert got == expected


def test_an_ombud_cannot_open_another_ombuds_case_by_guessing_its_url(
    world: World, users: dict[str, Any]
) -> None:
    app = world.new_application("900", name="Hemlig Person")
    client = sign_in(Client(), users["other_ombud"])
    for url in (
        reverse("web:application", args=[app.reference]),
        reverse("web:application_person", args=[app.reference]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Hemlig" not in response.content
    response = client.post(reverse("web:application_transition", args=[app.reference, "submit"]))
    assert response.status_code == 404
    app.refresh_from_db()
    assert app.state == "draft"


#: The busy pages -> (URL arguments, the queries a second request costs each role that may
#: open it), measured on SQLite with the ``case`` scene plus ``more_of_everything`` (session,
#: user, one-time code device and roles included; on PostgreSQL one more where the page
#: appends to the audit chain, see ``LOGGED_LOOKS``). The year-end page reads three
#: more once orders of the year are at the bank; the scene has some.
BUSY_PAGE_QUERIES: dict[str, tuple[str, dict[str, int]]] = {
    "worklist": ("", {"officer": 14, "decision_maker": 14}),
    "application": (
        "app",
        # +1 each: the komplettering's item changes, read once (issue #19)
        {"ombud": 22, "officer": 24, "decision_maker": 24, "treasurer": 17},
    ),
    "ombud_home": ("", {"ombud": 8}),
    "ombud_new": ("", {"ombud": 7}),
    "treasury": ("", {"treasurer": 20}),  # + the payees to choose from (issue #19)
    "batch": ("batch", {"treasurer": 9}),
    "year_end": ("", {"treasurer": 28}),  # + the periods and their proposals to close
    "cofinancing": ("", {"treasurer": 8}),
    "exports": ("", {"treasurer": 8, "administrator": 8}),
    "audit_home": ("ref", {"auditor": 11}),  # with the case's decision trail
    "audit_log": ("", {"auditor": 11}),  # with the users for the filter and the names
    "audit_checkpoints": ("", {"auditor": 9}),
    "audit_staff_directory": ("", {"auditor": 8}),
    "dashboard": (
        "",
        {
            "officer": 15,
            "decision_maker": 15,
            "treasurer": 15,
            "auditor": 16,
            "administrator": 16,
        },
    ),
}


#: Pages on which these roles see the person's data (the case's texts), each look logged.
LOGGED_LOOKS = {
    ("application", "ombud"),
    ("application", "officer"),
    ("application", "decision_maker"),
}


def more_of_everything(world: World) -> None:
    """More cases, orders, a sent batch, audit events and a komplettering for the lists."""
    scheduled = [
        world.run(
            world.to_approved(world.new_application("1500", "700")),
            "schedule_payout",
            world.treasurer,
        )
        for _ in range(2)
    ]
    world.send_payouts(*scheduled)
    checked = world.to_statutory_check(world.new_application("100", "200"))
    world.run(checked, "request_completion", world.officer, message="Bifoga kvitto")


def busy_page_url(name: str, case: dict[str, Any]) -> str:
    args, _bounds = BUSY_PAGE_QUERIES[name]
    if args == "ref":  # the auditor's trail search
        return reverse(f"web:{name}") + f"?reference={case['ref']['reference']}"
    return reverse(f"web:{name}", kwargs=case[args])


@pytest.mark.parametrize("role", sorted({r for _a, b in BUSY_PAGE_QUERIES.values() for r in b}))
def test_busy_pages_cost_a_bounded_number_of_queries_for_each_role(
    role: str,
    world: World,
    users: dict[str, Any],
    case: dict[str, Any],
    django_assert_max_num_queries: Any,
) -> None:
    """Each busy page the role may open: at most its measured cost, the same with more rows."""
    pages = {
        name: bounds[role] + audit_lock_statements(int((name, role) in LOGGED_LOOKS))
        for name, (_a, bounds) in BUSY_PAGE_QUERIES.items()
        if role in bounds
    }
    client = sign_in(Client(), users[role])
    more_of_everything(world)
    for name in pages:
        client.get(busy_page_url(name, case))  # warm the session and caches

    def queries() -> dict[str, int]:
        counts = {}
        for name, bound in pages.items():
            with django_assert_max_num_queries(bound) as captured:
                response = client.get(busy_page_url(name, case))
            assert response.status_code == 200, name
            counts[name] = len(captured)
        return counts

    before = queries()
    more_of_everything(world)
    assert queries() == before, "the pages' queries do not grow with the rows behind them"
