"""An API request whose database fails mid-request answers 503 with a message, at once.

(The real thing, a session terminated mid-transaction behind gunicorn, is in
``test_connection_dropped.py``; this one runs on SQLite as well.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import translation

from api.errors import database_unavailable
from tests.api.conftest import _fresh_throttle_counts, client_for
from workflows import services

__all__ = ["_fresh_throttle_counts", "client_for"]  # fixtures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_request_whose_database_fails_answers_503_with_a_message(
    world: Any,
    client_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: type[Exception],
) -> None:
    app = world.new_application("1000")

    def lost(*args: Any, **kwargs: Any) -> None:
        raise error("server closed the connection unexpectedly\nDETAIL: more")

    monkeypatch.setattr(services, "transition", lost)
    api = client_for(world.ombud.user)
    answer = api.post(f"/api/v1/applications/{app.reference}/transitions/submit/")
    with translation.override("sv"):
        swedish = database_unavailable(error("lost"), {}).data

    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json()["code"] == "database_unavailable"
    assert answer.json()["messages"] == [
        "The database did not complete the request. Reload to see whether your change was "
        "saved, then try again."
    ]
    assert "Databasen slutförde inte begäran" in swedish["detail"]
    logged = [r.getMessage() for r in caplog.records if r.name == "fundflow.database"]
    assert logged[0] == (
        f"database unavailable during POST /api/v1/applications/{app.reference}/transitions/"
        f"submit/: {error.__name__}: server closed the connection unexpectedly (further "
        "failures are counted, not logged, until a request writes again)"
    )
