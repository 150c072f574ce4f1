"""The audit log for auditors through the API: events by their stable code, the chain as
served, checkpoints, verification; the case trail's codes; follow-up, then close."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.canonical import GENESIS_HASH
from audit.checkpoints import create_checkpoint
from audit.models import AuditEvent, AuditVerificationRun
from audit.verification import verify_chain
from tests.audit.conftest import attacker

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events/"
VERIFICATION = "/api/v1/audit/verification/"


def _all_pages(client, url):
    """Every row of a paginated list, following ``next``."""
    rows = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        url = body["next"]
    return rows


def test_audit_events_are_filtered_by_their_stable_code_in_order(world, as_role):
    app = world.to_approved(world.new_application("1500"))
    other = world.to_approved(world.new_application("700"))
    client = as_role("auditor")

    approvals = client.get(EVENTS, {"action": "application.approve"}).json()
    submits = client.get(EVENTS, {"action": "application.submit", "object_ref": app.reference})

    assert [e["object_ref"] for e in approvals["results"]] == [app.reference, other.reference]
    assert approvals["count"] == 2
    first = approvals["results"][0]
    assert first["action"] == "application.approve"
    assert first["action_label"] == "Approved"
    assert first["actor"] == world.decider.pk
    assert first["role"] == "decision_maker"
    assert first["object_type"] == "application"
    assert isinstance(first["payload"], dict)
    assert [e["action"] for e in submits.json()["results"]] == ["application.submit"]
    assert submits.json()["results"][0]["actor"] == world.ombud.user.pk


def test_audit_events_after_a_sequence_and_by_actor(world, as_role):
    app = world.to_approved(world.new_application("1500"))
    client = as_role("auditor")
    submitted = AuditEvent.objects.get(action="application.submit", object_ref=app.reference)

    later = _all_pages(client, f"{EVENTS}?after={submitted.sequence}&page_size=100")
    by_decider = client.get(EVENTS, {"actor": world.decider.pk, "object_ref": app.reference})

    assert [e["sequence"] for e in later] == list(
        AuditEvent.objects.filter(sequence__gt=submitted.sequence)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert {e["actor"] for e in by_decider.json()["results"]} == {world.decider.pk}
    assert "application.approve" in [e["action"] for e in by_decider.json()["results"]]


@pytest.mark.parametrize(
    "query",
    [
        {"after": "seven"},
        {"after": "-1"},
        {"actor": "1.5"},
        {"action": "x" * 81},
        {"object_ref": "A\x00B"},
    ],
    ids=["after-word", "after-negative", "actor-decimal", "action-long", "ref-nul"],
)
def test_a_bad_audit_event_filter_is_a_400_naming_it(world, as_role, query):
    response = as_role("auditor").get(EVENTS, query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


def test_the_served_hash_chain_links_and_matches_the_verifier(world, as_role):
    world.to_approved(world.new_application("1500"))
    client = as_role("auditor")

    served = _all_pages(client, f"{EVENTS}?page_size=100")
    outcome = verify_chain()

    assert [e["sequence"] for e in served] == list(range(1, len(served) + 1))
    assert served[0]["prev_hash"] == GENESIS_HASH
    for previous, event in itertools.pairwise(served):
        assert event["prev_hash"] == previous["hash"], event["sequence"]
    assert outcome.ok
    assert (outcome.entries, outcome.last_hash) == (len(served), served[-1]["hash"])
    one = client.get(f"{EVENTS}{served[3]['sequence']}/").json()
    assert one == served[3]
    stored = AuditEvent.objects.get(sequence=served[3]["sequence"])
    assert (one["hash"], one["prev_hash"]) == (stored.hash, stored.prev_hash)


def test_an_audit_event_that_does_not_exist_is_a_404(world, as_role):
    response = as_role("auditor").get(f"{EVENTS}999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_audit_event_list_costs_the_same_queries_however_long_the_log(world, as_role):
    client = as_role("auditor")
    client.get(EVENTS)  # the token's first use is recorded once

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(EVENTS, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    few, few_rows = queries()
    world.to_approved(world.new_application("1500", "300"))
    world.to_approved(world.new_application("700"))
    many, many_rows = queries()

    assert many_rows > few_rows
    assert many == few


def test_checkpoints_are_served_with_what_an_auditor_checks(world, as_role):
    first = create_checkpoint()
    world.to_approved(world.new_application("1500"))
    second = create_checkpoint()
    assert first is not None and second is not None

    body = as_role("auditor").get("/api/v1/audit/checkpoints/").json()

    assert body["count"] == 2
    assert [c["sequence"] for c in body["results"]] == [first.sequence, second.sequence]
    row = body["results"][1]
    assert row["hash"] == second.hash
    assert row["root_hash"] == second.root_hash
    assert row["note"] == second.note
    assert row["signature"] == second.signature
    assert row["key_fingerprint"] == second.key_fingerprint
    assert row["timestamped"] is False
    assert row["timestamped_at"] is None
    assert row["created_at"]


def test_no_verification_has_run_yet_reads_as_ok_null(world, as_role):
    AuditVerificationRun.objects.all().delete()

    response = as_role("auditor").get(VERIFICATION)

    assert response.status_code == 200
    assert response.json() == {
        "ok": None,
        "checked": None,
        "ran_at": None,
        "problems": [],
        "warnings": [],
    }


def test_verification_runs_now_and_is_ok_on_a_clean_log(world, as_role):
    world.to_approved(world.new_application("1500"))
    client = as_role("auditor")

    ran = client.post(VERIFICATION)
    last = client.get(VERIFICATION)

    assert ran.status_code == 200, ran.json()
    assert ran.json()["ok"] is True
    assert ran.json()["checked"] == AuditEvent.objects.count()
    assert ran.json()["problems"] == []
    assert last.json()["ok"] is True
    assert last.json()["ran_at"] == ran.json()["ran_at"]
    assert last.json()["checked"] == ran.json()["checked"]  # the recorded run keeps its count
    assert AuditVerificationRun.objects.filter(kind="verify", ok=True).count() == 1


def test_verification_is_not_ok_after_tampering_with_a_row(world, as_role):
    app = world.to_approved(world.new_application("1500"))
    approved = AuditEvent.objects.get(action="application.approve", object_ref=app.reference)
    client = as_role("auditor")
    with attacker():
        AuditEvent.objects.filter(pk=approved.pk).update(payload={"total": "99999.00"})

    ran = client.post(VERIFICATION)
    last = client.get(VERIFICATION)

    assert ran.status_code == 200
    assert ran.json()["ok"] is False
    assert f"sequence {approved.sequence}: modified" in ran.json()["problems"][0]
    assert last.json()["ok"] is False
    assert f"sequence {approved.sequence}" in last.json()["problems"][0]


def test_verification_without_the_public_key_says_so_and_records_nothing(
    world, as_role, settings, tmp_path
):
    assert create_checkpoint() is not None
    settings.AUDIT_PUBLIC_KEY_FILE = str(tmp_path / "absent.pub")
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    before = AuditVerificationRun.objects.count()

    response = as_role("auditor").post(VERIFICATION)

    assert response.status_code == 503
    assert response.json()["code"] == "verification_not_possible"
    assert "public key" in response.json()["detail"]
    assert AuditVerificationRun.objects.count() == before


def test_the_case_trail_names_each_step_by_its_stable_code_and_is_paginated(world, as_role):
    app = world.to_approved(world.new_application("1500"))
    client = as_role("officer")
    url = f"/api/v1/applications/{app.reference}/trail/"

    trail = _all_pages(client, f"{url}?page_size=2")
    first_page = client.get(url, {"page_size": 2}).json()

    codes = [row["action"] for row in trail]
    assert codes.index("application.submit") < codes.index("application.approve")
    approve = trail[codes.index("application.approve")]
    assert approve["action_label"] == "Approved"
    assert len(first_page["results"]) == 2
    assert first_page["count"] == len(trail)
    assert first_page["next"]
    assert [row["sequence"] for row in trail] == sorted(row["sequence"] for row in trail)


def _close_url(app):
    return f"/api/v1/applications/{app.reference}/transitions/close/"


def _follow_up_url(app):
    return f"/api/v1/applications/{app.reference}/follow-up/"


def test_a_case_in_a_fund_that_requires_follow_up_is_closed_through_the_api(world, as_role):
    world.fund.follow_up_required = True
    world.fund.save()
    app = world.to_paid(world.new_application("650"))
    officer = as_role("officer")

    too_early = officer.post(_close_url(app), {}, format="json")
    recorded = officer.post(
        _follow_up_url(app),
        {"outcome": "used_as_intended", "evidence_reference": "Kvitto 2026-114"},
        format="json",
    )
    closed = officer.post(_close_url(app), {}, format="json")

    assert too_early.status_code == 400
    assert "follow-up" in too_early.json()["detail"]
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["reference"] == app.reference
    assert recorded.json()["state"] == "paid"
    assert closed.status_code == 200, closed.json()
    assert closed.json()["state"] == "closed"
    event = AuditEvent.objects.get(action="application.follow_up", object_ref=app.reference)
    assert event.payload == {"outcome": "used_as_intended"}


def test_follow_up_is_the_officers_and_only_after_payment(world, as_role):
    paid = world.to_paid(world.new_application("650"))
    approved = world.to_approved(world.new_application("400"))
    body = {"outcome": "used_as_intended"}

    by_ombud = as_role("ombud").post(_follow_up_url(paid), body, format="json")
    before_payment = as_role("officer").post(_follow_up_url(approved), body, format="json")
    bad_outcome = as_role("officer").post(_follow_up_url(paid), {"outcome": "sold"}, format="json")

    assert by_ombud.status_code == 403
    assert by_ombud.json()["code"] == "permission_denied"
    assert before_payment.status_code == 400
    assert before_payment.json()["detail"] == "Follow-up is recorded after payment."
    assert bad_outcome.status_code == 400
    assert "outcome" in bad_outcome.json()["fields"]
    assert not paid.follow_ups.exists()
