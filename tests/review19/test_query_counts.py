"""Review of #19: the new pages' queries do not grow with the number of items or people."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fund.models import Application
from tests.fixtures import World
from tests.web.conftest import sign_in


def page(app: Application) -> str:
    return reverse("web:application", args=[app.reference])


def edit_page(app: Application) -> str:
    return reverse("web:ombud_edit", args=[app.reference])


def queries(call: Callable[[], Any], *, reads_only: bool = False) -> int:
    """How many queries ``call`` runs; ``reads_only``: without the audit log's writes (one
    logged read per person found is the rule, and each is an event of the chain)."""
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code in (200, 400), response.status_code
    if not reads_only:
        return len(captured)
    return sum(
        1
        for query in captured.captured_queries
        if not any(
            part in query["sql"] for part in ("audit_audit", "SAVEPOINT", "pg_advisory_xact_lock")
        )
    )


def test_the_decision_form_reads_as_much_for_eight_items_as_for_two(world: World) -> None:
    small = world.to_decision(world.new_application(*["900"] * 2))
    large = world.to_decision(world.new_application(*["900"] * 8))
    client = sign_in(Client(), world.decider)
    counts = [queries(partial(client.get, page(app))) for app in (small, small, large)]
    assert counts[2] == counts[1], counts


def test_the_ombuds_edit_page_reads_as_much_for_eight_items_as_for_two(world: World) -> None:
    small, large = world.new_application(*["900"] * 2), world.new_application(*["900"] * 8)
    client = sign_in(Client(), world.ombud.user)
    counts = [queries(partial(client.get, edit_page(app))) for app in (small, small, large)]
    assert counts[2] == counts[1], counts


def test_a_search_by_name_reads_as_much_for_twelve_people_as_for_three_besides_their_logged_reads(
    world: World,
) -> None:
    for n in range(3):
        world.new_application("500", name=f"Delad Förstanamn{n}")
    client = sign_in(Client(), world.officer)
    url = reverse("web:worklist")
    client.get(url, {"q": "Delad"})
    three = queries(lambda: client.get(url, {"q": "Delad"}), reads_only=True)
    for n in range(3, 12):
        world.new_application("500", name=f"Delad Förstanamn{n}")
    twelve = queries(lambda: client.get(url, {"q": "Delad"}), reads_only=True)
    assert twelve == three, (three, twelve)
