"""Audit benchmarks.

1. Verification rate over 1,000,000 events against the plainest verifier of the same rows in
   the same run (target: ratio >= 0.8), and the verifier's peak memory (bounded). The plain
   verifier (:func:`plain_verify`) opens its own connection with the bare driver (``sqlite3``
   / psycopg 3, a named server-side cursor), reads the events in sequence order with one
   SELECT and ``fetchmany(5000)``, encodes each one as the chain's canonical JSON (one
   ``json.dumps`` with sorted keys, no whitespace, UTF-8, over the hashed fields; the payload
   read as text and decoded with ``json.loads``), hashes it with SHA-256 and
   compares the hash and the link to the previous one. What ``audit_verify`` does beyond it
   (the Merkle root against the signed checkpoint, the clock, the head row) is its own cost.
   With ``BENCH_AUDIT_GROWTH=10000,100000`` the chain is also built and verified at those
   lengths first, to show how time and memory grow.
2. What the audit append adds to a workflow transition (target: < 30 %).

The million events are synthesised as a valid chain and bulk-inserted (not appended one by
one); ``BENCH_AUDIT_EVENTS`` makes the chain shorter for a quick run.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import Growth, Result

EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))
#: Chain lengths verified one after the other, to show how the cost grows (the last = EVENTS).
GROWTH = sorted(
    {int(n) for n in os.environ.get("BENCH_AUDIT_GROWTH", "").split(",") if n.strip()} | {EVENTS}
)
TRANSITION_ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "6"))
#: Rounds of the verifier and the plain verifier at EVENTS, alternating; the best of each.
VERIFY_ROUNDS = int(os.environ.get("BENCH_AUDIT_VERIFY_ROUNDS", "2"))
CASES_PER_ROUND = 10
BATCH = 10_000

_STATES = ["draft", "submitted", "awaiting_ombud", "ombud_verified", "statutory_check"]
_ACTIONS = ["application.submit", "application.request_attestation", "application.attest"]


def synthetic_rows(
    count: int, start: int = 1, prev_hash: str | None = None
) -> Iterator[tuple[Any, ...]]:
    """A valid chain of ``count`` events shaped like real ones, with each event's bytes.

    Yields (sequence, occurred_at, actor_id, actor_role, action, object_type, object_ref,
    payload, prev_hash, hash, canonical_bytes).
    """
    from audit.canonical import GENESIS_HASH, format_timestamp, stored_event_bytes

    prev = prev_hash or GENESIS_HASH
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for sequence in range(start, start + count):
        moment = base + timedelta(microseconds=sequence * 1_000_003)
        n = sequence % len(_ACTIONS)
        payload = {
            "from": _STATES[n],
            "to": _STATES[n + 1],
            "fund": "allmant",
            "amount": f"{(sequence % 5000) + 100}.00",
            "items": [{"position": 1, "category": "glasses"}],
        }
        fields = (
            sequence,
            format_timestamp(moment),
            sequence % 40 + 1,
            "officer",
            _ACTIONS[n],
            "application",
            f"A-2026-{sequence // 12:06d}",
            payload,
            prev,
        )
        data = stored_event_bytes(*fields)
        digest = hashlib.sha256(data).hexdigest()
        yield (sequence, moment, *fields[2:], digest, data)
        prev = digest


def insert_chain(count: int, *, checkpoint: bool = False) -> None:
    """Empty the audit tables and bulk-insert a valid chain.

    With ``checkpoint`` a signed checkpoint is made at the head, as production has one.
    """
    from django.db import connection, transaction

    from audit import triggers
    from audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditTimestamp

    with transaction.atomic(), connection.cursor() as cursor:
        triggers.drop(connection)
        # One statement a table: the ORM's delete() would first fetch a previous run's
        # million events into memory (gigabytes, minutes) to check what refers to them.
        for model in (AuditTimestamp, AuditCheckpoint, AuditEvent, AuditHead):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608
        triggers.install(connection)
    when = AuditEvent._meta.get_field("occurred_at")
    payload = AuditEvent._meta.get_field("payload")
    sql = (
        "INSERT INTO audit_auditevent (sequence, occurred_at, actor_id, actor_role, action, "
        "object_type, object_ref, payload, prev_hash, hash) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    batch: list[tuple[Any, ...]] = []
    last: tuple[Any, ...] = ()

    columns = sql[len("INSERT INTO audit_auditevent ") : sql.index(" VALUES")]
    dump = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode

    def flush() -> None:
        if connection.vendor == "postgresql":  # COPY: a million events in seconds, not minutes
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY audit_auditevent {columns} FROM STDIN") as copy,
            ):
                for row in batch:
                    copy.write_row((*row[:7], dump(row[7]), row[8], row[9]))
            batch.clear()
            return
        params = [
            (
                *row[:1],
                when.get_db_prep_value(row[1], connection),
                *row[2:7],
                payload.get_db_prep_value(row[7], connection),
                row[8],
                row[9],
            )
            for row in batch
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        batch.clear()

    with transaction.atomic():
        for row in synthetic_rows(count):
            batch.append(row)
            last = row
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        AuditHead.objects.create(pk=1, sequence=last[0], hash=last[9])
    if checkpoint:
        # Verification then recomputes the Merkle root over every event too, and checks it
        # against the signed note.
        from audit.checkpoints import create_checkpoint

        create_checkpoint()


#: The plain verifier's query; PostgreSQL spells the timestamp canonically itself.
PLAIN_SQL = (
    "SELECT sequence, {occurred_at}, actor_id, actor_role, action, object_type, object_ref, "
    "{payload}, prev_hash, hash FROM audit_auditevent ORDER BY sequence"
)


def plain_verify() -> tuple[int, float]:
    """The plainest verifier: bare driver, canonical JSON, SHA-256, link; (entries, seconds).

    No project code: its own connection, one SELECT, ``fetchmany(5000)``. The payload is read
    as text and decoded with ``json.loads`` on both databases: the driver's fastest path
    (psycopg's own ``jsonb`` loader takes several times longer a row). SQLite returns the time
    as Django stored it (``YYYY-MM-DD HH:MM:SS[.ffffff]``, UTC); PostgreSQL spells it.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    sqlite = db["ENGINE"].endswith("sqlite3")
    started = time.perf_counter()
    if sqlite:
        import sqlite3

        conn: Any = sqlite3.connect(db["NAME"])
        cursor = conn.cursor()
        cursor.execute(PLAIN_SQL.format(occurred_at="occurred_at", payload="payload"))
    else:
        import psycopg

        conn = psycopg.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"],
            host=db["HOST"], port=db["PORT"] or None,
        )  # fmt: skip
        cursor = conn.cursor(name="plain_verify")  # server-side: memory stays flat
        cursor.execute(
            PLAIN_SQL.format(
                occurred_at="to_char(occurred_at AT TIME ZONE 'UTC', "
                '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')',
                payload="payload::text",
            )
        )
    encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
    loads, sha256 = json.loads, hashlib.sha256
    prev, count = "0" * 64, 0
    while chunk := cursor.fetchmany(5000):
        for sequence, at, actor, role, action, otype, oref, payload, prev_hash, digest in chunk:
            if sqlite:
                at = at.replace(" ", "T") + (".000000Z" if len(at) == 19 else "Z")
            payload = loads(payload)
            body = {
                "sequence": sequence, "occurred_at": at, "actor_id": actor, "actor_role": role,
                "action": action, "object_type": otype, "object_ref": oref, "payload": payload,
                "prev_hash": prev_hash,
            }  # fmt: skip
            if prev_hash != prev or sha256(encode(body).encode()).hexdigest() != digest:
                raise RuntimeError(f"the plain verifier found a break at {sequence}")
            prev = digest
            count += 1
    cursor.close()
    conn.close()
    return count, time.perf_counter() - started


_VERIFY_CHILD = """
import os, sys, time
import django
django.setup()
from audit.verification import verify_chain

def status(key):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(key))

before = status("VmRSS:")
started = time.perf_counter()
outcome = verify_chain()
spent = time.perf_counter() - started
peak = status("VmHWM:")
print(outcome.ok, outcome.entries, spent, before, peak)
print(outcome.line(), file=sys.stderr)
"""


def verify_in_child() -> tuple[bool, int, float, int, int]:
    """Run the verification in a fresh process: (ok, entries, seconds, RSS before, peak) in KiB."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    done = subprocess.run(
        [sys.executable, "-c", _VERIFY_CHILD], env=env, capture_output=True, text=True, check=True
    )
    ok, entries, spent, before, peak = done.stdout.split()
    return ok == "True", int(entries), float(spent), int(before), int(peak)


def _recompute_rate(count: int) -> float:
    """The walk over rows already in memory, payloads as stored text: the verifier minus the DB.

    As the verifier takes each database's rows: on SQLite the payload text is canonical and
    hashed as is; on PostgreSQL (``jsonb``, which prints ``{"a": 1}``) every payload is
    parsed and re-encoded, so there the text is spelt as jsonb spells it.
    """
    import json

    from django.db import connection

    from audit.canonical import CanonicalJSONEncoder
    from audit.chain import walk

    canonical = connection.vendor != "postgresql"
    rows = [
        (
            row[0],
            row[1].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            *row[2:7],
            json.dumps(row[7], cls=CanonicalJSONEncoder) if canonical else json.dumps(row[7]),
            *row[8:10],
        )
        for row in synthetic_rows(count)
    ]
    started = time.perf_counter()
    if not walk(rows, payload_text=True, canonical_text=canonical).ok:
        raise RuntimeError("synthetic chain does not hash")
    return count / (time.perf_counter() - started)


def bench_verification() -> list[Result | Growth]:
    """The chain verified at each size of GROWTH (rebuilt each time), the largest reported."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    growth: list[Result | Growth] = []
    plain = float("inf")
    for size in GROWTH:
        started = time.perf_counter()
        insert_chain(size, checkpoint=True)
        print(f"   built a chain of {size:,} events in {time.perf_counter() - started:.1f} s")
        ok, entries, spent, before_kb, peak_kb = verify_in_child()
        if size == EVENTS:  # the plain verifier and audit_verify alternate, best of each
            plain_entries, plain = plain_verify()
            for _ in range(VERIFY_ROUNDS - 1):
                spent = min(spent, verify_in_child()[2])
                plain = min(plain, plain_verify()[1])
            if plain_entries != size:
                raise RuntimeError(f"the plain verifier read {plain_entries} of {size} events")
        for _ in range(2 if spent < 2 else 0):  # short runs: best of three against noise
            spent = min(spent, verify_in_child()[2])
        if not ok or entries != size:
            raise RuntimeError(f"verification failed on a synthetic chain: {ok} {entries}")
        growth.append(Growth("audit_verify", size, spent, (peak_kb - before_kb) / 1024))
    bare = EVENTS / plain
    rate = EVENTS / spent
    recompute = _recompute_rate(min(EVENTS, 100_000))
    return [
        Result(
            "plain verifier: bare driver cursor (sqlite3 / psycopg named cursor), "
            "fetchmany(5000), payload text -> json.loads -> canonical json.dumps, SHA-256, "
            "link, per event",
            bare,
            "entries/s",
        ),
        Result(
            f"audit_verify (stream, recompute, link, Merkle root, clock) over {EVENTS:,} events, "
            f"best of {VERIFY_ROUNDS} alternating rounds",
            rate,
            "entries/s",
            bare,
            "ratio >= 0.8",
        ),
        Result("  of which: encode + hash rows already in memory", recompute, "entries/s"),
        Result(
            "verifier peak memory above start-up",
            (peak_kb - before_kb) / 1024,
            f"MiB (process peak {peak_kb / 1024:.0f} MiB)",
            target=f"bounded (chunks of {5000} rows), {EVENTS:,} events",
        ),
        *growth,
    ]


def _no_event(**kw: Any) -> None:
    return None


def _walk_cases(world: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        app = world.new_application("1500")
        world.to_paid(app)
    return time.perf_counter() - started


def bench_transition_overhead() -> list[Result]:
    from unittest import mock

    from audit import services as audit_services
    from audit.models import AuditEvent
    from bench.world import bench_world

    world = bench_world()
    _walk_cases(world, 3)  # warm up
    # Every module that appends (workflow, ledger, payouts …) imported record_event by name.
    appenders = [
        module
        for module in list(sys.modules.values())
        if getattr(module, "record_event", None) is audit_services.record_event
        and module is not audit_services
    ]
    with_audit = without_audit = 0.0
    before = AuditEvent.objects.count()
    for _ in range(TRANSITION_ROUNDS):  # interleaved, so drift hits both alike
        with_audit += _walk_cases(world, CASES_PER_ROUND)
        with ExitStack() as stack:
            for module in appenders:
                stack.enter_context(mock.patch.object(module, "record_event", _no_event))
            without_audit += _walk_cases(world, CASES_PER_ROUND)
    cases = TRANSITION_ROUNDS * CASES_PER_ROUND
    steps = (AuditEvent.objects.count() - before) // cases  # events appended per case
    per_case_with = with_audit / cases * 1000
    per_case_without = without_audit / cases * 1000
    return [
        Result("case to paid without audit appends", per_case_without, "ms/case"),
        Result("case to paid with audit appends", per_case_with, "ms/case", per_case_without),
        Result(
            "audit share of a transition",
            (per_case_with - per_case_without) / per_case_without * 100,
            f"% (over {cases} cases, {steps} events each)",
            target="< 30 %",
        ),
    ]


def run() -> list[Result | Growth]:
    from django.conf import settings

    settings.DEBUG = False  # production-like: no query log in the connection wrapper
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = bench_verification() + bench_transition_overhead()
    print(f"   (bench process peak RSS {rss / 1024:.0f} -> "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")  # fmt: skip
    return results
