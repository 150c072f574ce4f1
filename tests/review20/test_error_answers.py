"""Review of #20: every refusal under /api/ is the JSON error body with a documented code;
no 4xx comes back as an HTML page."""

from __future__ import annotations

from typing import Any

import pytest

from api.errors import ERROR_CODES
from tests.review20.helpers import exported_batch, upload

pytestmark = pytest.mark.django_db


def _json_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert body["code"] in ERROR_CODES, body
    assert body["messages"], body
    return body


@pytest.mark.parametrize(
    "method,url,role",
    [
        ("get", "/api/v1/books/vouchers/?page=0", "treasurer"),
        ("get", "/api/v1/books/vouchers/?page=999999", "treasurer"),
        ("get", "/api/v1/books/trial-balance/?year=1899", "auditor"),
        ("put", "/api/v1/books/funds/", "treasurer"),
        ("post", "/api/v1/audit/events/", "auditor"),
        ("delete", "/api/v1/audit/verification/", "auditor"),
        ("get", "/api/v1/audit/events/abc/", "auditor"),
        ("get", "/api/v1/payout-file-jobs/not-a-uuid/", "treasurer"),
        ("get", "/api/v1/payout-file-jobs/00000000-0000-0000-0000-000000000000/", "treasurer"),
        ("get", "/api/v1/payment-batches/%2e%2e/file/", "treasurer"),
        ("get", "/api/v1/payment-batches/x%00y/orders/", "treasurer"),
        ("get", "/api/v1/bank-files/", "treasurer"),
        ("post", "/api/v1/bank-files/", "auditor"),
        ("post", "/api/v1/applications/NOPE/follow-up/", "officer"),
    ],
)
def test_a_refusal_of_the_new_endpoints_is_json_with_a_documented_code(
    world, as_role, method, url, role
):
    response = getattr(as_role(role), method)(url)

    assert 400 <= response.status_code < 500
    _json_error(response)


def test_a_refused_bank_file_answers_every_problem_with_a_documented_code(world, as_role):
    _app, _batch = exported_batch(world, "700")

    response = upload(as_role("treasurer"), b"<?xml version='1.0'?><not-a-bank-file/>")

    assert response.status_code == 400
    assert _json_error(response)["code"] == "validation_failed"


def test_an_html_accept_header_still_gets_json_refusals(world, as_role):
    response = as_role("officer").get("/api/v1/books/vouchers/", HTTP_ACCEPT="text/html")

    assert response.status_code in (403, 406)
    _json_error(response)


def test_too_many_query_parameters_are_a_json_400(world, as_role):
    query = "&".join(f"p{i}=1" for i in range(1100))

    response = as_role("auditor").get(f"/api/v1/audit/events/?{query}")

    assert response.status_code == 400
    _json_error(response)


def test_too_many_form_fields_are_a_json_400(world, as_role):
    app = world.to_paid(world.new_application("800"))
    body = "&".join(f"f{i}=1" for i in range(1100))

    response = as_role("officer").post(
        f"/api/v1/applications/{app.reference}/follow-up/",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )

    # The API reads JSON only: a form body is an unsupported media type, answered in JSON.
    assert response.status_code in (400, 415)
    _json_error(response)


def test_a_request_for_another_host_is_a_json_400(world, as_role):
    response = as_role("auditor").get("/api/v1/audit/events/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    _json_error(response)
