"""Every list is paginated with a bounded page size; a bad ``page_size`` or ``page`` is a 400."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page_size", ["0", "-1", "101", "1000", "abc", "1.5", ""])
def test_a_page_size_outside_1_to_100_is_refused_not_clamped(world, as_role, page_size):
    response = as_role("officer").get("/api/v1/applications/", {"page_size": page_size})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert "page_size" in body["fields"]


@pytest.mark.parametrize("page", ["0", "-2", "abc", "1.0"])
def test_a_page_that_is_not_a_positive_integer_is_refused(world, as_role, page):
    response = as_role("officer").get("/api/v1/applications/", {"page": page})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "page" in response.json()["fields"]


def test_a_page_past_the_end_stays_not_found(world, as_role):
    response = as_role("officer").get("/api/v1/applications/", {"page": "7"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_page_size_and_page_within_bounds_are_honoured(world, as_role):
    for _ in range(3):
        world.new_application("100")
    page = as_role("officer").get("/api/v1/applications/", {"page_size": "2", "page": "last"})
    assert page.status_code == 200
    assert [page.json()["count"], len(page.json()["results"])] == [3, 1]
    full = as_role("officer").get("/api/v1/applications/", {"page_size": "100"})
    assert len(full.json()["results"]) == 3


def test_a_cases_items_are_a_bounded_page(world, as_role):
    app = world.new_application("100", "200", "300")
    response = as_role("ombud").get(
        f"/api/v1/applications/{app.reference}/items/", {"page_size": 2}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [i["position"] for i in body["results"]] == [1, 2]
    assert body["next"]
    bad = as_role("ombud").get(f"/api/v1/applications/{app.reference}/items/", {"page_size": 500})
    assert bad.status_code == 400


def test_a_cases_decisions_are_a_bounded_page(world, as_role):
    app = world.to_approved(world.new_application("100"))
    response = as_role("officer").get(f"/api/v1/applications/{app.reference}/decisions/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["outcome"] == "approve"
    assert body["next"] is None
