"""Applications through the API: list with filters and paging, create by ombud, read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from fund.models import Application, Beneficiary
from tests.web.query_costs import audit_lock_statements, short_and_long_case

pytestmark = pytest.mark.django_db

NEW_CASE = {
    "fund": "allmant",
    "person": {"name": "Amira Hassan", "personal_number": "", "region": "AB"},
    "items": [
        {"category": "glasses", "amount": "1500.00", "description": "glasögon"},
        {"category": "clothes", "amount": "800", "description": "vinterjacka"},
    ],
}


def test_ombud_creates_an_application_with_items_and_a_new_person(world, as_role):
    response = as_role("ombud").post("/api/v1/applications/", NEW_CASE, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("A-")
    assert body["state"] == "draft"
    assert body["beneficiary"].startswith("B-")
    assert [i["requested_amount"] for i in body["items"]] == [
        {"amount": "1500.00", "currency": "SEK"},
        {"amount": "800.00", "currency": "SEK"},
    ]
    assert body["total_requested"] == {"amount": "2300.00", "currency": "SEK"}
    assert "Amira" not in response.content.decode()
    person = Beneficiary.objects.get(reference=body["beneficiary"])
    assert person.personal_data["name"] == "Amira Hassan"
    assert Application.objects.get(reference=body["reference"]).ombud == world.ombud


def test_a_rejected_item_creates_neither_person_nor_application(world, as_role):
    case = {**NEW_CASE, "items": [{"category": "glasses", "amount": "25000"}]}  # over max

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert "Item 1" in response.json()["detail"]
    assert not Beneficiary.objects.exists()
    assert not Application.objects.exists()


def test_invalid_input_answers_400_with_field_errors(world, as_role):
    case = {"fund": "allmant", "items": [{"category": "yacht", "amount": "-1"}]}

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "items[0].category" in fields
    assert "items[0].amount" in fields


def test_a_case_needs_either_a_new_person_or_a_known_one(world, as_role):
    case = {"fund": "allmant", "items": NEW_CASE["items"]}

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["fields"]


def test_ombud_reuses_a_person_they_already_applied_for(world, as_role):
    first = world.new_application("1000")
    case = {
        "fund": "allmant",
        "beneficiary": first.beneficiary.reference,
        "items": NEW_CASE["items"],
    }

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 201
    assert response.json()["beneficiary"] == first.beneficiary.reference


def test_list_filters_by_fund_and_state_and_pages(world, as_role):
    apps = [world.new_application("1000") for _ in range(3)]
    world.run(apps[0], "submit", world.ombud.user)
    client = as_role("officer")

    everything = client.get("/api/v1/applications/?page_size=2").json()
    submitted = client.get("/api/v1/applications/?state=submitted").json()
    other_fund = client.get("/api/v1/applications/?fund=nope").json()

    assert everything["count"] == 3
    assert len(everything["results"]) == 2
    assert everything["next"] is not None
    assert [a["reference"] for a in submitted["results"]] == [apps[0].reference]
    assert other_fund["count"] == 0


def test_an_unknown_state_filter_is_a_400(world, as_role):
    response = as_role("officer").get("/api/v1/applications/?state=bogus")

    assert response.status_code == 400
    assert "state" in response.json()["fields"]


def test_read_shows_items_and_assessments_by_reference(world, as_role):
    app = world.to_statutory_check(world.new_application("1500"))
    world.assess_all(app)
    client = as_role("officer")

    detail = client.get(f"/api/v1/applications/{app.reference}/").json()
    items = client.get(f"/api/v1/applications/{app.reference}/items/").json()["results"]

    assert detail["state"] == "statutory_check"
    assert detail["items"][0]["statutory_assessment"]["outcome"] == "not_obliged"
    assert items[0]["position"] == 1
    assert items[0]["statutory_assessment"]["grantable_amount"] == {
        "amount": "1500.00",
        "currency": "SEK",
    }


def test_officer_records_an_assessment_through_the_api(world, as_role):
    app = world.to_statutory_check(world.new_application("1500"))

    response = as_role("officer").post(
        f"/api/v1/applications/{app.reference}/items/1/assessment/",
        {
            "outcome": "partly",
            "authority": "social_services",
            "legal_basis": "sol_4_1",
            "grantable_amount": "500",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["statutory_assessment"]["grantable_amount"] == {
        "amount": "500.00",
        "currency": "SEK",
    }


def test_person_values_are_read_through_privacy_and_logged(world, as_role):
    app = world.new_application("1000", name="Nadia Karimi")

    response = as_role("ombud").get(f"/api/v1/applications/{app.reference}/person/")

    assert response.status_code == 200
    assert response.json()["name"] == "Nadia Karimi"
    event = AuditEvent.objects.filter(action="personal_data.viewed").get()
    assert event.payload["channel"] == "api"
    assert event.payload["application"] == app.reference


def test_decisions_and_trail_of_a_decided_case(world, as_role):
    app = world.to_approved(world.new_application("1500"))
    client = as_role("officer")

    decisions = client.get(f"/api/v1/applications/{app.reference}/decisions/").json()["results"]
    trail = client.get(f"/api/v1/applications/{app.reference}/trail/").json()["results"]

    assert decisions[0]["outcome"] == "approve"
    assert decisions[0]["status"] == "effective"
    assert decisions[0]["items"] == [
        {
            "item": 1,
            "outcome": "approved",
            "amount": {"amount": "1500.00", "currency": "SEK"},
            "reason": "within_rules",
        }
    ]
    assert decisions[0]["total_approved"] == {"amount": "1500.00", "currency": "SEK"}
    assert [row["sequence"] for row in trail] == sorted(row["sequence"] for row in trail)
    assert "application.approve" in [row["action"] for row in trail]
    assert "Approved" in [row["action_label"] for row in trail]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applications/?fund=a%00b",
        "/api/v1/applications/A-2026-0%001/",
        "/api/v1/payment-batches/FF%00/",
    ],
)
def test_nul_characters_never_reach_the_database(world, as_role, url):
    response = as_role("treasurer").get(url)

    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"


def test_a_fund_code_with_a_nul_is_a_field_error(world, as_role):
    case = {**NEW_CASE, "fund": "all\x00mant"}

    response = as_role("ombud").post("/api/v1/applications/", case, format="json")

    assert response.status_code == 400
    assert "fund" in response.json()["fields"]


#: A case's read endpoints -> the most queries any role's request costs, measured on SQLite
#: (token, user and roles included; the ombud's is one more, the person's
#: includes the audit append of the logged look): the same for a case of one item and a
#: short timeline as for one of eight items, a long timeline and two signatures.
CASE_READS = {
    "": 5,
    "items/": 7,
    "person/": 12,
    "decisions/": 9,
    "trail/": 8,  # one page of the trail, and its count
    "transitions/": 9,
}
#: Who reads the case in each state (treasurers only once it is on its way to payment); the
#: person endpoint is for the ombud and the case's handlers.
READERS = {
    "statutory_check": ("ombud", "officer", "decider", "auditor"),
    "payout_scheduled": ("ombud", "officer", "decider", "treasurer", "auditor"),
}


def read_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


@pytest.mark.parametrize("stage", sorted(READERS))
def test_a_case_read_costs_the_same_queries_however_long_the_case(world, as_role, stage):
    short, long = short_and_long_case(world, stage)
    for role in READERS[stage]:
        client = as_role(role)
        client.get("/api/v1/applications/")  # the token's first use is recorded once
        for endpoint, bound in CASE_READS.items():
            if endpoint == "person/" and role in ("treasurer", "auditor"):
                continue
            for_short = read_queries(client, f"/api/v1/applications/{short.reference}/{endpoint}")
            for_long = read_queries(client, f"/api/v1/applications/{long.reference}/{endpoint}")
            assert for_long == for_short, (role, endpoint)
            # Reading the person appends the logged look to the audit chain.
            appends = 1 if endpoint == "person/" else 0
            assert for_long <= bound + audit_lock_statements(appends), (role, endpoint)
