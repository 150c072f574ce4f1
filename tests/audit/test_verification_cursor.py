"""On PostgreSQL the verifier streams the chain: it never asks for the whole result at once.

Outside a transaction Django declares its chunked cursor WITH HOLD, and PostgreSQL then runs
the query to its end and stores every row before the first one is fetched (a million events:
hundreds of megabytes of temporary file, and none of the work overlapped with the hashing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from django.db import connection

from audit import verification
from bench.bench_audit import insert_chain

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_verification_reads_the_chain_through_a_cursor_that_is_not_held(monkeypatch):
    insert_chain(30)
    holdable: list[bool] = []
    real_walk = verification.walk

    def watching_walk(rows: Iterable[Any], **options: Any) -> Any:
        def watched() -> Iterable[Any]:
            for n, row in enumerate(rows):
                if n == 0:  # the cursor is declared and has handed over its first rows
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT is_holdable FROM pg_cursors")
                        holdable.extend(held for (held,) in cursor.fetchall())
                yield row

        return real_walk(watched(), **options)

    monkeypatch.setattr(verification, "walk", watching_walk)
    outcome = verification.verify_chain()
    assert outcome.ok, outcome.line()
    assert outcome.entries == 30
    assert holdable == [False]
