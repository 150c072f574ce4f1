"""Who may do what through the API — one table, every endpoint, every role.

A case outside the caller's scope answers 404 (its reference cannot be probed); a role that
may see the case but not take the step answers 403. A new endpoint without a row here fails
``test_every_endpoint_has_a_rule``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, path
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounting.models import ExportJob, PayoutFileJob
from accounting.payouts import batches
from api import urls as api_urls
from api.services import issue_token
from api.views import reminders as reminder_views
from audit.models import AuditEvent
from reminders.models import Reminder
from tests.factories import OmbudFactory, UserFactory

ROLES = (
    "ombud",
    "other_ombud",
    "officer",
    "outside_officer",
    "decider",
    "treasurer",
    "auditor",
    "admin",
    "anonymous",
)


def expect(*codes: int) -> dict[str, int]:
    assert len(codes) == len(ROLES)
    return dict(zip(ROLES, codes, strict=True))


#: The evidence report names the roles as the other matrices do.
ROLE_NAMES = {"decider": "decision_maker", "admin": "administrator"}

#: ombud, other ombud, officer, officer of another fund, decider, treasurer, auditor, admin, anon
CASE_READ = expect(200, 404, 200, 404, 200, 200, 200, 404, 401)
BATCH_READ = expect(403, 403, 403, 403, 403, 200, 200, 403, 401)


@dataclass(frozen=True)
class Rule:
    path: str  # {case}, {batch}, {reminder}, {job}, {event} are filled in
    expected: dict[str, int]
    body: dict[str, Any] | None = None


RULES: dict[tuple[str, str], Rule] = {
    ("applications", "GET"): Rule(
        "/api/v1/applications/", expect(200, 200, 200, 200, 200, 200, 200, 200, 401)
    ),
    ("applications", "POST"): Rule(
        "/api/v1/applications/",
        # An officer must name the ombud (400); only fund handlers may create (403).
        expect(201, 201, 400, 403, 403, 403, 403, 403, 401),
        {
            "fund": "allmant",
            "person": {"name": "Lina Berg"},
            "items": [{"category": "food", "amount": "300"}],
        },
    ),
    ("application", "GET"): Rule("/api/v1/applications/{case}/", CASE_READ),
    ("items", "GET"): Rule("/api/v1/applications/{case}/items/", CASE_READ),
    ("assessment", "POST"): Rule(
        "/api/v1/applications/{case}/items/1/assessment/",
        # The officer may assess, but not while the case is approved (400).
        expect(403, 404, 400, 404, 403, 403, 403, 404, 401),
        {"outcome": "not_obliged"},
    ),
    ("person", "GET"): Rule(
        "/api/v1/applications/{case}/person/",
        # Treasurers and auditors see the case but not the person (auditors: audit purpose).
        expect(200, 404, 200, 404, 200, 403, 403, 404, 401),
    ),
    ("transitions", "GET"): Rule("/api/v1/applications/{case}/transitions/", CASE_READ),
    ("transition", "POST"): Rule(
        "/api/v1/applications/{case}/transitions/withdraw/",
        expect(200, 404, 200, 404, 403, 403, 403, 404, 401),
        {"reason": "need_met_elsewhere"},
    ),
    ("decisions", "GET"): Rule("/api/v1/applications/{case}/decisions/", CASE_READ),
    ("trail", "GET"): Rule("/api/v1/applications/{case}/trail/", CASE_READ),
    ("batches", "GET"): Rule("/api/v1/payment-batches/", BATCH_READ),
    ("batches", "POST"): Rule(
        "/api/v1/payment-batches/",
        # The treasurer may, but every scheduled order is already batched (400).
        expect(403, 403, 403, 403, 403, 400, 403, 403, 401),
        {},
    ),
    ("batch", "GET"): Rule("/api/v1/payment-batches/{batch}/", BATCH_READ),
    ("batch-approve", "POST"): Rule(
        "/api/v1/payment-batches/{batch}/approve/",
        expect(403, 403, 403, 403, 403, 200, 403, 403, 401),
    ),
    ("batch-file", "POST"): Rule(
        "/api/v1/payment-batches/{batch}/file/",
        # Not approved yet: the treasurer gets 400.
        expect(403, 403, 403, 403, 403, 400, 403, 403, 401),
    ),
    # Payouts to the end (issue #20): the scene's batch is a draft, so the treasurer gets 409
    # for the file, 400 for sent and void, and may cancel it; the file is for treasurers only.
    ("batch-file", "GET"): Rule(
        "/api/v1/payment-batches/{batch}/file/",
        expect(403, 403, 403, 403, 403, 409, 403, 403, 401),
    ),
    ("batch-orders", "GET"): Rule("/api/v1/payment-batches/{batch}/orders/", BATCH_READ),
    ("batch-sent", "POST"): Rule(
        "/api/v1/payment-batches/{batch}/sent/",
        expect(403, 403, 403, 403, 403, 400, 403, 403, 401),
    ),
    ("batch-cancel", "POST"): Rule(
        "/api/v1/payment-batches/{batch}/cancel/",
        expect(403, 403, 403, 403, 403, 200, 403, 403, 401),
    ),
    ("batch-void", "POST"): Rule(
        "/api/v1/payment-batches/{batch}/void/",
        expect(403, 403, 403, 403, 403, 400, 403, 403, 401),
    ),
    ("payout-file-job", "GET"): Rule("/api/v1/payout-file-jobs/{payout_job}/", BATCH_READ),
    ("bank-files", "POST"): Rule(
        "/api/v1/bank-files/",
        # The treasurer's body is no bank file (400, nothing booked).
        expect(403, 403, 403, 403, 403, 400, 403, 403, 401),
        {},
    ),
    ("exports", "POST"): Rule(
        "/api/v1/exports/",
        expect(403, 403, 403, 403, 403, 202, 403, 202, 401),
        {"kind": "ledger_csv", "date_from": "2026-01-01"},
    ),
    ("export", "GET"): Rule(
        "/api/v1/exports/{job}/", expect(403, 403, 403, 403, 403, 200, 403, 200, 401)
    ),
    ("export-file", "GET"): Rule(
        "/api/v1/exports/{job}/file/", expect(403, 403, 403, 403, 403, 200, 403, 200, 401)
    ),
    ("reminders", "GET"): Rule(
        "/api/v1/reminders/", expect(200, 200, 200, 200, 200, 200, 200, 200, 401)
    ),
    ("reminder-dismiss", "POST"): Rule(
        "/api/v1/reminders/{reminder}/dismiss/",
        expect(200, 404, 404, 404, 404, 404, 404, 404, 401),
    ),
}

#: The books, read only (issue #20): treasurers and auditors; every other role 403.
BOOKS_READ = expect(403, 403, 403, 403, 403, 200, 200, 403, 401)
RULES |= {
    ("books-accounts", "GET"): Rule("/api/v1/books/accounts/", BOOKS_READ),
    ("books-vouchers", "GET"): Rule("/api/v1/books/vouchers/", BOOKS_READ),
    ("books-trial-balance", "GET"): Rule("/api/v1/books/trial-balance/", BOOKS_READ),
    ("books-funds", "GET"): Rule("/api/v1/books/funds/", BOOKS_READ),
}

#: The audit log is the auditors' (as their pages); follow-up is the fund's officer's, after
#: payment (the scene's case is approved, not paid: the officer gets 400).
AUDIT_READ = expect(403, 403, 403, 403, 403, 403, 200, 403, 401)
RULES |= {
    ("follow-up", "POST"): Rule(
        "/api/v1/applications/{case}/follow-up/",
        expect(403, 404, 400, 404, 403, 403, 403, 404, 401),
        {"outcome": "used_as_intended"},
    ),
    ("audit-events", "GET"): Rule("/api/v1/audit/events/", AUDIT_READ),
    ("audit-event", "GET"): Rule("/api/v1/audit/events/{event}/", AUDIT_READ),
    ("audit-checkpoints", "GET"): Rule("/api/v1/audit/checkpoints/", AUDIT_READ),
    ("audit-verification", "GET"): Rule("/api/v1/audit/verification/", AUDIT_READ),
    ("audit-verification", "POST"): Rule("/api/v1/audit/verification/", AUDIT_READ),
}

#: Not behind a role: the schema and its page are public.
PUBLIC = {"schema", "docs"}


def _endpoints(patterns: list[Any] | None = None) -> set[tuple[str | None, str]]:
    """(url name, method) of every API endpoint behind a role (of api.urls, or ``patterns``)."""
    found: set[tuple[str | None, str]] = set()
    for pattern in api_urls.urlpatterns if patterns is None else patterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in PUBLIC:
            continue
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                found.add((pattern.name, method.upper()))
    return found


@pytest.mark.evidence("security")
def test_every_endpoint_has_a_rule(evidence):
    """Every API endpoint and method has a row in the permission table, and no row is stale."""
    endpoints = _endpoints()
    ruled: set[tuple[str | None, str]] = set(RULES)
    evidence.row(
        tried=f"{len(endpoints)} endpoint methods of api.urls",
        outcome=f"without a rule: {sorted(endpoints - ruled)}; "
        f"stale rules: {sorted(ruled - endpoints)}",
    )
    assert endpoints == ruled


@pytest.mark.evidence("security")
def test_a_new_endpoint_without_a_rule_is_detected(evidence):
    """An endpoint (or a new method on one) added without a rule fails the coverage test."""

    class Statistics(APIView):
        def get(self, request):
            raise AssertionError("never called")

    class Reminders(reminder_views.ReminderList):
        def delete(self, request):
            raise AssertionError("never called")

    patterns = [
        *(p for p in api_urls.urlpatterns if p.name != "reminders"),
        path("v1/statistics/", Statistics.as_view(), name="statistics"),
        path("v1/reminders/", Reminders.as_view(), name="reminders"),
    ]
    missing = _endpoints(patterns) - set(RULES)
    evidence.row(
        tried="api.urls plus GET statistics and DELETE reminders", outcome=f"{sorted(missing)}"
    )
    assert missing == {("statistics", "GET"), ("reminders", "DELETE")}


@pytest.fixture
def scene(world, tmp_path, settings):
    """An approved case of the world's ombud, another case paid into a draft batch, an export."""
    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    case = world.to_approved(world.new_application("1000"))
    other = world.to_approved(world.new_application("500"))
    world.run(other, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[other])
    reminder = Reminder.objects.create(
        application=case,
        kind="unpaid",
        recipient=world.ombud.user,
        waiting_since=case.decided_at,
        days=11,
        created_at=case.decided_at,
    )
    users = {
        "ombud": world.ombud.user,
        "other_ombud": OmbudFactory().user,
        "officer": world.officer,
        "outside_officer": UserFactory(roles=["officer"]),
        "decider": world.decider,
        "treasurer": world.treasurer2,  # not the batch's creator
        "auditor": world.auditor,
        "admin": world.admin,
    }
    export_file = tmp_path / "export.csv"
    export_file.write_text("voucher\n", encoding="utf-8")
    job = ExportJob.objects.create(
        kind="ledger_csv", created_by=world.treasurer, status="done", file_path=str(export_file)
    )
    refs = {"case": case.reference, "batch": batch.message_id, "reminder": reminder.pk}
    event = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()
    payout_job = PayoutFileJob.objects.create(batch=batch, requested_by=world.treasurer)
    return {**refs, "job": job.pk, "event": event, "payout_job": payout_job.pk}, users


def _client(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        _token, plain = issue_token(user, label="permissions")
        client.credentials(HTTP_AUTHORIZATION=f"Token {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


@pytest.mark.django_db
@pytest.mark.evidence("security")
@pytest.mark.parametrize("endpoint", sorted(RULES), ids=lambda e: f"{e[1]} {e[0]}")
def test_role_and_case_scope(scene, endpoint, evidence):
    """Every role (in and out of the case's scope) x this endpoint: the status it answers."""
    refs, users = scene
    rule = RULES[endpoint]
    path = rule.path.format(**refs)
    answers = {}
    for role in ROLES:
        # Each role meets the same scene: what one role changes is rolled back.
        with transaction.atomic():
            client = _client(users.get(role))
            if endpoint[1] == "GET":
                response = client.get(path)
            else:
                response = client.post(path, rule.body or {}, format="json")
            answers[role] = response.status_code
            transaction.set_rollback(True)
        evidence.row(
            tried=f"{endpoint[1]} {path} as {ROLE_NAMES.get(role, role)}",
            outcome=str(answers[role]),
            matrix="API endpoints",
            target=f"{endpoint[1]} {endpoint[0]}",
            role=ROLE_NAMES.get(role, role),
        )

    assert answers == rule.expected, path


@pytest.mark.django_db
def test_lists_show_only_the_callers_cases(scene):
    refs, users = scene
    seen = {
        role: {a["reference"] for a in _client(user).get("/api/v1/applications/").json()["results"]}
        for role, user in users.items()
    }

    assert refs["case"] in seen["ombud"]
    assert seen["other_ombud"] == set()
    assert seen["outside_officer"] == set()
    assert seen["admin"] == set()
    assert len(seen["officer"]) == len(seen["auditor"]) == 2
    assert refs["case"] in seen["treasurer"]


@pytest.mark.django_db
def test_an_ombud_reaching_for_someone_elses_case_learns_nothing(scene):
    refs, users = scene
    client = _client(users["other_ombud"])
    missing = client.get("/api/v1/applications/A-2000-999999/")

    for suffix in ("", "items/", "person/", "transitions/", "decisions/", "trail/"):
        response = client.get(f"/api/v1/applications/{refs['case']}/{suffix}")
        assert response.status_code == 404
        assert response.json() == missing.json()


#: The API's lists -> the queries a request costs each role that reads it, measured on SQLite
#: and PostgreSQL alike (token, user and roles included; no list appends to the audit
#: chain): the same with more rows behind them.
LIST_QUERIES: dict[str, dict[str, int]] = {
    # An administrator sees no cases: no query for them at all.
    "/api/v1/applications/": {
        "ombud": 6,
        "officer": 5,
        "decider": 5,
        "treasurer": 5,
        "auditor": 5,
        "admin": 2,
    },
    "/api/v1/payment-batches/": {"treasurer": 5, "auditor": 5},
    "/api/v1/payment-batches/{batch}/": {"treasurer": 4, "auditor": 4},
    "/api/v1/payment-batches/{batch}/orders/": {"treasurer": 5, "auditor": 5},
    # The books and the audit log (issue #20): the same with more vouchers, funds and events.
    "/api/v1/books/accounts/": {"treasurer": 4, "auditor": 4},
    "/api/v1/books/vouchers/": {"treasurer": 5, "auditor": 5},
    "/api/v1/books/funds/": {"treasurer": 13, "auditor": 13},
    "/api/v1/audit/events/": {"auditor": 4},
    "/api/v1/audit/checkpoints/": {"auditor": 3},
    # An administrator has no reminders (no case of theirs waits).
    "/api/v1/reminders/": dict.fromkeys(("ombud", "officer", "decider", "treasurer", "auditor"), 3)
    | {"admin": 2},
}


def _more_rows(world):
    """More cases in every scope, a batch of several orders and reminders for everyone."""
    scheduled = [
        world.run(
            world.to_approved(world.new_application("700", "300")),
            "schedule_payout",
            world.treasurer,
        )
        for _ in range(2)
    ]
    batches.create_batch(actor=world.treasurer, applications=scheduled)
    world.to_statutory_check(world.new_application("100"))
    for user in (world.ombud.user, world.officer, world.decider, world.treasurer2, world.auditor):
        Reminder.objects.create(
            application=scheduled[0],
            kind="unpaid",
            recipient=user,
            waiting_since=scheduled[0].decided_at,
            days=11,
            created_at=scheduled[0].decided_at,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ("ombud", "officer", "decider", "treasurer", "auditor", "admin"))
def test_lists_cost_a_bounded_number_of_queries_for_each_role(
    world, scene, role, django_assert_max_num_queries
):
    """Each list the role reads: at most its measured cost, the same with more rows."""
    refs, users = scene
    paths = {url: bounds[role] for url, bounds in LIST_QUERIES.items() if role in bounds}
    client = _client(users[role])
    _more_rows(world)
    client.get("/api/v1/reminders/")  # the token's first use is recorded once

    def queries():
        counts = {}
        for url, bound in paths.items():
            with django_assert_max_num_queries(bound) as captured:
                response = client.get(url.format(**refs))
            assert response.status_code == 200, url
            counts[url] = len(captured)
        return counts

    before = queries()
    _more_rows(world)
    assert queries() == before, "the lists' queries do not grow with their rows"
