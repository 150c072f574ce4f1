"""Every page of the ``web`` namespace, for every role: what it may and what it may not.

The table names each URL once. A new page without a row fails
``test_every_page_has_a_rule``, so no page can ship without its permission spec.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounting import payouts
from accounting.models import ExportJob
from tests.fixtures import World
from tests.web.conftest import ROLES, sign_in

OK = "ok"  # 200, or a redirect that is not to the login page
LOGIN = "login"  # redirected to the login page
FORBIDDEN = 403
NOT_FOUND = 404  # the case exists, but not for this user: no hint that it does

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
    "application_assess": ("post", "item", ONLY("officer")),
    "ombud_home": ("get", "", ONLY("ombud", "other_ombud")),
    "ombud_new": ("get", "", ONLY("ombud", "other_ombud")),
    "treasury": ("get", "", ONLY("treasurer")),
    "batch_create": ("post", "", ONLY("treasurer")),
    "batch": ("get", "batch", ONLY("treasurer")),
    "batch_file": ("post", "batch", ONLY("treasurer")),
    "batch_action": ("post", "batch_action", ONLY("treasurer")),
    "exports": ("get", "", ONLY("treasurer", "administrator")),
    "export_job": ("get", "job", ONLY("treasurer", "administrator")),
    "export_job_progress": ("get", "job", ONLY("treasurer", "administrator")),
    "export_job_file": ("get", "job", ONLY("treasurer", "administrator")),
    "audit_home": ("get", "", ONLY("auditor")),
    "audit_log": ("get", "", ONLY("auditor")),
    "audit_verify": ("get", "", ONLY("auditor")),
    "audit_checkpoints": ("get", "", ONLY("auditor")),
    "audit_export": ("get", "ref", ONLY("auditor")),
    "dashboard": (
        "get",
        "",
        ONLY("officer", "decision_maker", "treasurer", "auditor", "administrator"),
    ),
}

PUBLIC = {"login"}


def web_url_names() -> set[str]:
    resolver = get_resolver()
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "web" and entry.name:
                names.add(entry.name)

    walk(resolver.url_patterns, None)
    return names


def test_every_page_has_a_rule() -> None:
    names = web_url_names()
    assert names, "the web namespace has pages"
    assert names - set(PAGES) == set(), "pages without a permission rule"
    assert set(PAGES) - names == set(), "rules for pages that do not exist"


@pytest.fixture
def case(world: World, tmp_path: Any) -> dict[str, Any]:
    """An approved case of world.ombud with a batch of its payment order, and an export."""
    app = world.to_approved(world.new_application("1500"))
    app = world.run(app, "schedule_payout", world.treasurer)
    batch = payouts.create_batch(world.treasurer, applications=[app])
    item = app.items.get()
    export_file = tmp_path / "export.csv"
    export_file.write_text("voucher\n", encoding="utf-8")
    job = ExportJob.objects.create(
        kind="ledger_csv",
        created_by=world.treasurer,
        status="done",
        file_path=str(export_file),
    )
    return {
        "job": {"pk": job.pk},
        "": {},
        "app": {"reference": app.reference},
        "ref": {"reference": app.reference},
        "step": {"reference": app.reference, "name": "withdraw"},
        "item": {"reference": app.reference, "item_id": item.pk},
        "batch": {"pk": batch.pk},
        "batch_action": {"pk": batch.pk, "action": "approve"},
    }


def outcome(response: Any) -> Any:
    if response.status_code in (301, 302):
        return LOGIN if response["Location"].startswith(reverse("web:login")) else OK
    if response.status_code == 200:
        return OK
    return response.status_code


def test_anonymous_users_get_the_login_page(case: dict[str, Any]) -> None:
    wrong = {}
    for name, (method, args, _rules) in PAGES.items():
        response = getattr(Client(), method)(reverse(f"web:{name}", kwargs=case[args]))
        expected = OK if name in PUBLIC else LOGIN
        if outcome(response) != expected:
            wrong[name] = response.status_code
    assert wrong == {}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_it_may_and_no_more(
    role: str, users: dict[str, Any], case: dict[str, Any]
) -> None:
    """One request per page; none of them changes data (they lack the data a change needs)."""
    got = {}
    for name, (method, args, _rules) in PAGES.items():
        client = sign_in(Client(), users[role])
        response = getattr(client, method)(reverse(f"web:{name}", kwargs=case[args]))
        got[name] = outcome(response)
    assert got == {name: rules[role] for name, (_m, _a, rules) in PAGES.items()}


def test_pages_that_change_data_refuse_get(users: dict[str, Any], case: dict[str, Any]) -> None:
    for name, (method, args, rules) in PAGES.items():
        if method != "post":
            continue
        role = next((r for r, expected in rules.items() if expected == OK), "ombud")
        client = sign_in(Client(), users[role])
        response = client.get(reverse(f"web:{name}", kwargs=case[args]))
        assert response.status_code == 405, name


def test_staff_without_the_second_factor_are_sent_to_the_login_page(
    users: dict[str, Any], client: Client
) -> None:
    client.force_login(users["officer"])  # password only, no OTP device verified
    response = client.get(reverse("web:worklist"))
    assert outcome(response) == LOGIN


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
