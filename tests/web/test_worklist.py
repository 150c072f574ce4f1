"""The officer's worklist: scope, filters, sorting and paging in the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.worklist_data import bulk_applications
from tests.factories import FundFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from web.selectors import PAGE_SIZE, WorklistQuery, worklist


def refs(response: Any) -> list[str]:
    return [app.reference for app in response.context["rows"]]


def test_the_worklist_shows_only_the_officers_funds(world: World) -> None:
    mine = world.new_application("1000")
    other_fund = FundFactory()
    theirs = world.new_application("1000", fund=other_fund)
    response = sign_in(Client(), world.officer).get(reverse("web:worklist"))
    assert mine.reference in refs(response)
    assert theirs.reference not in refs(response)


def queries_for(client: Client, **params: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("web:worklist"), params)
    assert response.status_code == 200
    return len(queries)


def test_a_page_of_200_applications_costs_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = sign_in(Client(), world.officer)
    bulk_applications(world.fund, world.ombud, 30, officers=[world.officer, world.officer2])
    client.get(reverse("web:worklist"))  # warm the session and caches
    with_30 = queries_for(client)
    bulk_applications(world.fund, world.ombud, 170, officers=[world.officer, world.officer2])
    with_200 = queries_for(client)
    assert with_200 == with_30, "the number of queries does not grow with the applications"
    with django_assert_max_num_queries(14):
        response = client.get(reverse("web:worklist"), {"sort": "waiting"})
    assert len(response.context["rows"]) == PAGE_SIZE
    assert response.context["rows"].paginator.count == 200
    assert queries_for(client, page=5, state="all", sort="-reference") == with_200


def test_filters_sorting_and_paging(world: World) -> None:
    bulk_applications(world.fund, world.ombud, 60, officers=[world.officer])
    user = world.officer
    everything = worklist(user, WorklistQuery(state="all"))
    assert everything.paginator.count == 60
    waiting = [row.waiting_since for row in everything]
    assert waiting == sorted(waiting), "longest waiting first"

    state = everything[0].state
    same_state = worklist(user, WorklistQuery(state=state))
    assert {row.state for row in same_state} == {state}

    unassigned = worklist(user, WorklistQuery(state="all", officer="none"))
    assert all(row.assigned_officer_id is None for row in unassigned)
    mine = worklist(user, WorklistQuery(state="all", officer=str(world.officer.pk)))
    assert unassigned.paginator.count + mine.paginator.count == 60

    old = worklist(user, WorklistQuery(state="all", waiting_days=180))
    assert 0 < old.paginator.count < 60

    by_ref = worklist(user, WorklistQuery(state="all", sort="-reference"))
    page_refs = [row.reference for row in by_ref]
    assert page_refs == sorted(page_refs, reverse=True)

    second = worklist(user, WorklistQuery(state="all", page=3))
    assert second.number == 3
    assert len(second) == 60 - 2 * PAGE_SIZE
    assert second[0].item_count >= 1
    assert second[0].requested_total > 0


def test_the_filter_form_narrows_the_list(world: World) -> None:
    draft = world.new_application("700")
    submitted = world.run(world.new_application("800"), "submit", world.ombud.user)
    client = sign_in(Client(), world.officer)
    response = client.get(reverse("web:worklist"), {"state": "submitted"})
    assert refs(response) == [submitted.reference]
    response = client.get(reverse("web:worklist"), {"state": "draft"})
    assert refs(response) == [draft.reference]
    response = client.get(reverse("web:worklist"), {"state": "submitted"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in response.content, "htmx gets the table only"
    assert submitted.reference.encode() in response.content


def test_amounts_are_shown_the_swedish_way(world: World) -> None:
    world.new_application("1250.50")
    client = sign_in(Client(), world.officer)
    client.post(reverse("set_language"), {"language": "sv"})
    html = client.get(reverse("web:worklist")).content.decode()
    assert "1\u00a0250,50\u00a0kr" in html


@pytest.mark.parametrize("action", ["assign", "request_attestation"])
def test_bulk_actions(world: World, action: str) -> None:
    apps = [world.run(world.new_application("500"), "submit", world.ombud.user) for _ in range(2)]
    client = sign_in(Client(), world.officer)
    response = client.post(
        reverse("web:worklist_bulk"),
        {
            "action": action,
            "applications": [a.reference for a in apps],
            "officer": world.officer2.pk,
        },
        follow=True,
    )
    assert response.status_code == 200
    for app in apps:
        app.refresh_from_db()
        if action == "assign":
            assert app.assigned_officer_id == world.officer2.pk
        else:
            assert app.state == "awaiting_ombud"
    done = (
        f"2 applications assigned to {world.officer2.get_full_name() or world.officer2.username}."
        if action == "assign"
        else "The ombuds were asked to attest 2 applications."
    )
    assert done in [str(m) for m in response.context["messages"]]


def test_a_bulk_action_reports_each_refusal(world: World) -> None:
    draft = world.new_application("500")
    client = sign_in(Client(), world.officer)
    response = client.post(
        reverse("web:worklist_bulk"),
        {"action": "request_attestation", "applications": [draft.reference]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any(t.startswith(draft.reference) and "cannot be asked" in t for t in texts), texts
