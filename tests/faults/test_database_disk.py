"""The database's disk fills up or turns read-only: 503 with a message, logged once, no restart.

The database file lies on a real small file system (``tests/faults/database_disk.py``) that
the test fills or remounts read-only after signing in. Pages and the API then answer every
request that must write — a step, a look at a person's data or a case's need texts, whose
access log cannot be written — with 503, ``Retry-After`` and the message the API gives for
a lost database (the pages in the site's layout, in Swedish unless asked otherwise); pages
and API calls that only read are still served. The incident is logged once, its end once,
and once the disk is repaired the next requests write again without a restart.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fund.states import State
from tests.api.conftest import _fresh_throttle_counts, client_for
from tests.faults.database_disk import database_disk
from tests.faults.support import consistent, events
from tests.signin import sign_in

__all__ = ["_fresh_throttle_counts", "client_for", "database_disk"]  # fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.evidence("fault")]

MESSAGE = (
    "The database did not complete the request. Reload to see whether your change was saved, "
    "then try again."
)
SWEDISH = "Databasen slutförde inte begäran"
FAULTS = ["full", "read-only"]


def _break(disk: Any, fault: str) -> None:
    disk.fill() if fault == "full" else disk.make_read_only()


def _clients(world: Any, client_for: Any) -> tuple[Client, Client, Any]:
    """The ombud's pages, the officer's pages and the ombud's API, signed in beforehand."""
    ombud = sign_in(Client(raise_request_exception=False), world.ombud.user)
    officer = sign_in(Client(raise_request_exception=False), world.officer)
    api = client_for(world.ombud.user)
    api.raise_request_exception = False
    api.get("/api/v1/applications/")  # the token's first use is written now
    return ombud, officer, api


def _submit_page(reference: str) -> str:
    return reverse("web:application_transition", args=[reference, "submit"])


def _submit_api(reference: str) -> str:
    return f"/api/v1/applications/{reference}/transitions/submit/"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_full_or_read_only_disk_answers_503_to_writes_on_pages_and_api(
    world: Any, client_for: Any, database_disk: Any, fault: str, evidence: Any
) -> None:
    app = world.new_application("1000")
    ombud, _officer, api = _clients(world, client_for)
    database_disk.move_database()
    _break(database_disk, fault)

    page = ombud.post(_submit_page(app.reference))
    answer = api.post(_submit_api(app.reference))
    ombud.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    swedish = ombud.post(_submit_page(app.reference))

    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert MESSAGE in html
    assert 'class="brand"' in html  # the site's layout
    assert "camera=()" in page["Permissions-Policy"]
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json()["code"] == "database_unavailable"
    assert answer.json()["messages"] == [MESSAGE]
    assert swedish.status_code == 503
    assert SWEDISH in swedish.content.decode()
    evidence.row(
        tried=f"submit a case on the page and through the API, {database_disk.fault}",
        outcome=f"page {page.status_code} (sv: {swedish.status_code}), API {answer.status_code} "
        f"{answer.json()['code']}, Retry-After {page['Retry-After']}",
    )


@pytest.mark.parametrize("fault", FAULTS)
def test_reads_that_need_no_write_are_served_on_a_full_or_read_only_disk(
    world: Any, client_for: Any, database_disk: Any, fault: str
) -> None:
    app = world.new_application("1000")
    ombud, officer, api = _clients(world, client_for)
    database_disk.move_database()
    _break(database_disk, fault)

    statuses = {
        "ombud home": ombud.get(reverse("web:ombud_home")).status_code,
        "worklist": officer.get(reverse("web:worklist")).status_code,
        "dashboard": officer.get(reverse("web:dashboard")).status_code,
        "API list": api.get("/api/v1/applications/").status_code,
        "API detail": api.get(f"/api/v1/applications/{app.reference}/").status_code,
    }

    assert statuses == dict.fromkeys(statuses, 200)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_personal_data_read_whose_access_log_cannot_be_written_is_refused_with_503(
    world: Any, client_for: Any, database_disk: Any, fault: str
) -> None:
    app = world.new_application("1000")
    ombud, _officer, api = _clients(world, client_for)
    database_disk.move_database()
    viewed = events("personal_data.viewed")
    _break(database_disk, fault)

    person = ombud.get(reverse("web:application_person", args=[app.reference]))
    case = ombud.get(reverse("web:application", args=[app.reference]))  # shows the need texts
    answer = api.get(f"/api/v1/applications/{app.reference}/person/")

    assert (person.status_code, case.status_code, answer.status_code) == (503, 503, 503)
    for refused in (person, case, answer):
        assert "Testa" not in refused.content.decode()
        assert "behov" not in refused.content.decode()
    assert MESSAGE in person.content.decode() and MESSAGE in case.content.decode()
    database_disk.repair()
    assert events("personal_data.viewed") == viewed  # nothing was shown, nothing logged


@pytest.mark.parametrize("fault", FAULTS)
def test_a_database_incident_is_logged_once_and_its_recovery_once(
    world: Any,
    client_for: Any,
    database_disk: Any,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = world.new_application("1000")
    ombud, officer, api = _clients(world, client_for)
    database_disk.move_database()
    _break(database_disk, fault)

    with caplog.at_level(logging.INFO):
        failed = [
            ombud.post(_submit_page(app.reference)).status_code,
            api.post(_submit_api(app.reference)).status_code,
            ombud.get(reverse("web:application_person", args=[app.reference])).status_code,
            ombud.post(_submit_page(app.reference)).status_code,
        ]
        errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
        caplog.clear()
        database_disk.repair()
        recovered = officer.get(reverse("web:worklist")).status_code
        infos = [r.getMessage() for r in caplog.records if r.name == "fundflow.database"]

    assert failed == [503] * 4
    assert [(r.name, r.levelname, r.exc_info) for r in errors] == [
        ("fundflow.database", "ERROR", None)
    ]
    first = errors[0].getMessage()
    assert "OperationalError" in first or "InternalError" in first
    assert "Testa" not in first
    assert recovered == 200
    assert infos == ["database recovered after 4 failed requests"]


@pytest.mark.parametrize("fault", FAULTS)
def test_pages_and_api_write_again_once_the_disk_is_repaired_without_a_restart(
    world: Any, client_for: Any, database_disk: Any, fault: str, evidence: Any
) -> None:
    first, second = world.new_application("1000"), world.new_application("2000")
    ombud, _officer, api = _clients(world, client_for)
    database_disk.move_database()
    _break(database_disk, fault)
    refused = [
        ombud.post(_submit_page(first.reference)).status_code,
        api.post(_submit_api(second.reference)).status_code,
    ]

    database_disk.repair()
    again = [
        ombud.get(reverse("web:ombud_home")).status_code,
        ombud.post(_submit_page(first.reference)).status_code,
        api.post(_submit_api(second.reference)).status_code,
        ombud.get(reverse("web:application_person", args=[first.reference])).status_code,
    ]

    first.refresh_from_db()
    second.refresh_from_db()
    assert refused == [503, 503]
    assert again == [200, 302, 200, 200]
    assert (first.state, second.state) == (State.SUBMITTED, State.SUBMITTED)
    evidence.row(
        tried=f"{database_disk.fault}; then free the space / make it writable again",
        outcome=f"during: {refused}; after, with no restart: {again} (page, step, API step, "
        f"personal data); both cases submitted once; {consistent()}",
    )


@pytest.mark.postgres
def test_a_read_only_postgresql_answers_503_to_writes_serves_reads_and_recovers(
    world: Any,
    client_for: Any,
    database_disk: Any,
    caplog: pytest.LogCaptureFixture,
    evidence: Any,
) -> None:
    """A PostgreSQL that refuses writes (a standby, default_transaction_read_only = on)"""
    app = world.new_application("1000")
    ombud, officer, api = _clients(world, client_for)
    database_disk.make_read_only()

    with caplog.at_level(logging.INFO, logger="fundflow.database"):
        during = [
            ombud.post(_submit_page(app.reference)).status_code,
            api.post(_submit_api(app.reference)).status_code,
            ombud.get(reverse("web:application_person", args=[app.reference])).status_code,
            officer.get(reverse("web:worklist")).status_code,
            api.get(f"/api/v1/applications/{app.reference}/").status_code,
        ]
        database_disk.repair()
        after = [
            ombud.post(_submit_page(app.reference)).status_code,
            officer.get(reverse("web:worklist")).status_code,
        ]
    logged = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "fundflow.database"
    ]

    app.refresh_from_db()
    assert during == [503, 503, 503, 200, 200]
    assert after == [302, 200]
    assert app.state == State.SUBMITTED
    assert [level for level, _message in logged] == ["ERROR", "INFO"]
    assert "InternalError 25006" in logged[0][1]
    assert logged[1][1] == "database recovered after 4 failed requests"
    evidence.row(
        tried=database_disk.fault,
        outcome=f"step page/API, person page, worklist, API detail: {during}; after "
        f"default_transaction_read_only = off: step {after[0]}, worklist {after[1]}; log: "
        f"{logged[0][1]!r}, then {logged[1][1]!r}",
    )
