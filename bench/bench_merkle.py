"""Merkle proof benchmarks: what an auditor's proof costs at a million events.

1. In memory, over ``BENCH_MERKLE_LEAVES`` (default 1,000,000) leaf hashes held in one
   buffer: the root, one inclusion proof and one consistency proof (each hashes about the
   whole tree once), their verification (log2 hashes), proof sizes and peak memory
   (tracemalloc). Baseline: the bare SHA-256 calls a root needs (n-1 interior nodes over
   65-byte inputs) in a plain loop, in the same run.
2. Through the database, over ``BENCH_MERKLE_DB_EVENTS`` (default 100,000; 0 skips it)
   events bulk-inserted as a valid chain: ``inclusion_document`` and ``consistency_document``
   as ``manage.py audit_proof`` runs them (the ``hash`` column streamed in chunks).
"""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

from bench import Growth, Result

LEAVES = int(os.environ.get("BENCH_MERKLE_LEAVES", "1000000"))
DB_EVENTS = int(os.environ.get("BENCH_MERKLE_DB_EVENTS", "100000"))
VERIFY_ROUNDS = 1000

T = TypeVar("T")


def _timed(work: Callable[[], T], rounds: int = 3) -> tuple[T, float]:
    """The result and the best time of ``rounds`` runs (the machine is shared: best of three)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return result, best


def _peak_mib(work: Callable[[], Any]) -> float:
    """Peak memory allocated while ``work`` runs (a second run: tracemalloc slows it)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _bare_root_hashing(count: int) -> float:
    """The SHA-256 calls a root needs, nothing else: count-1 nodes over 65-byte inputs."""
    node = b"\x01" + bytes(64)
    sha256 = hashlib.sha256

    def hash_all() -> None:
        for _ in range(count - 1):
            sha256(node).digest()

    return _timed(hash_all)[1]


def bench_in_memory() -> list[Result | Growth]:
    from audit.merkle import (
        LeafHashes,
        consistency_proof,
        inclusion_proof,
        subtree_root,
        verify_consistency,
        verify_inclusion,
    )

    n = LEAVES
    sha256 = hashlib.sha256
    leaves = LeafHashes(b"".join(sha256(i.to_bytes(8, "big")).digest() for i in range(n)))
    index, old = n * 2 // 3 + 1, n // 2 + 7  # neither a power of two nor at an edge
    root, root_s = _timed(lambda: subtree_root(leaves, 0, n))
    old_root = subtree_root(leaves, 0, old)
    inclusion, inclusion_s = _timed(lambda: inclusion_proof(leaves, index, n))
    consistency, consistency_s = _timed(lambda: consistency_proof(leaves, old, n))
    leaf = leaves[index]

    def verify_many() -> None:
        for _ in range(VERIFY_ROUNDS):
            verify_inclusion(leaf, index, n, inclusion, root)
            verify_consistency(old, n, old_root, root, consistency)

    _, both_s = _timed(verify_many)

    def verify_inclusions() -> None:
        for _ in range(VERIFY_ROUNDS):
            verify_inclusion(leaf, index, n, inclusion, root)

    _, inclusion_only_s = _timed(verify_inclusions)
    bare = _bare_root_hashing(n)
    peak = _peak_mib(lambda: inclusion_proof(leaves, index, n))
    verify_inclusion_us = inclusion_only_s / VERIFY_ROUNDS * 1e6
    verify_consistency_us = (both_s - inclusion_only_s) / VERIFY_ROUNDS * 1e6
    return [
        Result(f"bare SHA-256 of the {n - 1:,} interior nodes of a root", bare * 1e3, "ms"),
        Result(f"Merkle root over {n:,} leaf hashes (one buffer)", root_s * 1e3, "ms", bare * 1e3),
        Result(f"inclusion proof of leaf {index:,} of {n:,}", inclusion_s * 1e3, "ms", bare * 1e3),
        Result(f"consistency proof {old:,} -> {n:,}", consistency_s * 1e3, "ms", bare * 1e3),
        Result("verify the inclusion proof", verify_inclusion_us, "µs"),
        Result("verify the consistency proof", verify_consistency_us, "µs"),
        Result(
            "inclusion proof size",
            len(inclusion),
            f"hashes ({len(inclusion) * 32} bytes, {len(inclusion) * 44} in base64)",
        ),
        Result(
            "consistency proof size",
            len(consistency),
            f"hashes ({len(consistency) * 32} bytes, {len(consistency) * 44} in base64)",
        ),
        Result(
            "leaf hash buffer",
            n * 32 / 2**20,
            f"MiB ({n:,} x 32 bytes; a list of bytes objects takes ~{n * 73 / 2**20:.1f})",
        ),
        Result("peak memory building one proof, above the buffer", peak, "MiB"),
    ]


def _checkpoint_at(size: int) -> Any:
    """A signed checkpoint row at ``size``, as create_checkpoint writes it (its checks skipped:
    the chain is synthetic and verified by bench_audit)."""
    import base64

    from django.utils import timezone

    from audit.canonical import format_timestamp
    from audit.merkle import Frontier, leaf_hash
    from audit.models import AuditCheckpoint, AuditEvent
    from audit.note import CheckpointBody, split_note
    from audit.signing import fingerprint, log_origin, sign_note, signer

    frontier = Frontier()
    rows = AuditEvent.objects.filter(sequence__lte=size).order_by("sequence")
    for digest in rows.values_list("hash", flat=True).iterator(chunk_size=5000):
        frontier.append(leaf_hash(digest))
    head = AuditEvent.objects.values_list("hash", flat=True).get(sequence=size)
    now = timezone.now()
    body = CheckpointBody(log_origin(), size, frontier.root(), head, format_timestamp(now))
    note = sign_note(body.text())
    return AuditCheckpoint.objects.create(
        sequence=size,
        hash=head,
        created_at=now,
        signature=base64.b64encode(split_note(note)[1][0].signature).decode(),
        key_fingerprint=fingerprint(signer().public_key()),
        note=note,
        root_hash=frontier.root().hex(),
        frontier=frontier.encode(),
    )


def bench_database() -> list[Result | Growth]:
    from django.core.management import call_command

    from audit.proofs import consistency_document, inclusion_document
    from bench.bench_audit import insert_chain

    call_command("migrate", verbosity=0)
    n = DB_EVENTS
    insert_chain(n)
    old, new = _checkpoint_at(n // 2 + 7), _checkpoint_at(n)
    sequence = n * 2 // 3 + 1
    inclusion, inclusion_s = _timed(lambda: inclusion_document(sequence, new))
    consistency, consistency_s = _timed(lambda: consistency_document(old, new))
    peak = _peak_mib(lambda: inclusion_document(sequence, new))
    return [
        Growth("audit_proof --event (database, streamed)", n, inclusion_s),
        Growth("audit_proof --consistency (database, streamed)", n, consistency_s),
        Result(
            f"inclusion document at {n:,} events (database)",
            len(inclusion["proof"]),
            "hashes",
        ),
        Result(
            f"consistency document {old.sequence:,} -> {n:,} (database)",
            len(consistency["proof"]),
            "hashes",
        ),
        Result(f"peak memory of inclusion_document at {n:,} events", peak, "MiB"),
    ]


def run() -> list[Result | Growth]:
    from django.conf import settings

    settings.DEBUG = False  # production-like: no query log in the connection wrapper
    results = bench_in_memory()
    if DB_EVENTS:
        results += bench_database()
    return results
