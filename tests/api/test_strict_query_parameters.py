"""Issue #20, strict input: every list refuses a query parameter it does not take, or one
given twice, instead of answering the unfiltered list as if it were filtered."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("officer", "/api/v1/applications/?stat=draft"),
        ("officer", "/api/v1/reminders/?kind=awaiting_ombud"),
        ("treasurer", "/api/v1/payment-batches/?status=draft"),
        ("treasurer", "/api/v1/books/accounts/?number=1930"),
        ("auditor", "/api/v1/audit/checkpoints/?sequence=1"),
    ],
)
def test_a_list_refuses_a_query_parameter_it_does_not_take(world, as_role, role, url):
    response = as_role(role).get(url)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == [url.split("?")[1].split("=")[0]]


def test_a_list_filter_given_twice_is_refused(world, as_role):
    response = as_role("officer").get("/api/v1/applications/?state=draft&state=submitted")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["state"]


def test_a_list_takes_its_filters_and_the_paging_parameters(world, as_role):
    world.new_application("900")

    response = as_role("officer").get("/api/v1/applications/?state=draft&page=1&page_size=5")

    assert response.status_code == 200
    assert response.json()["count"] == 1
