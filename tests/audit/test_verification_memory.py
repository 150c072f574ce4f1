"""Verification streams: its memory does not grow with the length of the chain."""

from __future__ import annotations

import tracemalloc

from audit import verification
from bench.bench_audit import insert_chain


def _peak_while_verifying(count: int) -> int:
    insert_chain(count)
    tracemalloc.start()
    try:
        outcome = verification.verify_chain()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.ok, outcome.line()
    assert outcome.entries == count
    return peak


def test_verifying_five_times_more_entries_needs_no_more_memory(db, monkeypatch):
    monkeypatch.setattr(verification, "CHUNK_SIZE", 200)
    short = _peak_while_verifying(1_000)
    long = _peak_while_verifying(5_000)
    assert long < short * 1.5, (short, long)
