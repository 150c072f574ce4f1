"""One-behaviour tests of the pure modules: no database, no world, milliseconds each.

pytest-django refuses any database access from a test without the ``django_db`` mark, so a
pure function that starts to query fails here at once; this fixture keeps the mark out.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_database(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is not None:
        pytest.fail("tests/unit holds pure tests only: move a test that needs the database")
