"""Workflow transitions per second: the full service against the bare django-fsm transition.

The same eight transitions (submit … confirm_paid) are timed two ways on fresh cases:

* **service**: ``workflows.services.transition()`` — row lock, role, scope and segregation
  checks, validation, domain rows, ledger vouchers/commitments and the audit append, in one
  transaction. Only the time inside ``transition()`` counts (the statutory assessment and the
  payout batch between them are not transitions).
* **bare**: the model's django-fsm method and ``save()`` — state change only, no checks.

Then one more case is walked with every statement counted, by kind (SELECT, INSERT, UPDATE,
SAVEPOINT, other: BEGIN/COMMIT), per transition and for the case page's
``available_transitions`` after each step. The actor of each counted call is read afresh, as a
request's user is, so the reads of roles and fund memberships a request pays are counted. The
budgets the counts are held to are the ones ``tests/workflows/test_transition_query_counts.py``
asserts.

``BENCH_TRANSITION_CASES`` sets the number of cases per round (two interleaved rounds). Run it
again after the audit and export benches (``python -m bench transitions audit export
transitions``) to see one transition's cost against a log of a million events.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import Growth, Result
from workflows import step_inputs

CASES = int(os.environ.get("BENCH_TRANSITION_CASES", "25"))
PATH = [
    "submit",
    "request_attestation",
    "attest",
    "start_statutory_check",
    "clear",
    "approve",
    "schedule_payout",
    "confirm_paid",
]
#: The kinds of statement counted; ``other`` is BEGIN and COMMIT.
STATEMENT_KINDS = ("SELECT", "INSERT", "UPDATE", "SAVEPOINT", "other")


def statement_kind(sql: str) -> str:
    """SELECT, INSERT, UPDATE, SAVEPOINT (also its RELEASE and ROLLBACK TO) or other."""
    words = sql.split(None, 2)
    first = words[0].upper() if words else ""
    if first in ("SELECT", "INSERT", "UPDATE"):
        return first
    if "SAVEPOINT" in (w.upper() for w in words[:2]):
        return "SAVEPOINT"
    return "other"


def statement_counts(statements: Iterable[str]) -> Counter[str]:
    return Counter(statement_kind(sql) for sql in statements)


def _counts_text(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[kind]} {kind}" for kind in STATEMENT_KINDS if counts[kind])


def _timed_world() -> Any:
    """The bench world, with the time spent inside ``transition()`` added up, per kind too."""
    from bench.world import bench_world
    from workflows import services

    world = bench_world()
    world.spent = 0.0
    world.steps = 0
    world.spent_by = defaultdict(float)
    world.steps_by = Counter()

    def run(app: Any, name: str, actor: Any, **data: Any) -> Any:
        started = time.perf_counter()
        result = services.transition(app, actor=actor, step=step_inputs.parse(name, {**data}))
        spent = time.perf_counter() - started
        world.spent += spent
        world.steps += 1
        world.spent_by[name] += spent
        world.steps_by[name] += 1
        return result

    world.run = run
    return world


def _service_round(world: Any, cases: int) -> tuple[float, int]:
    world.spent, world.steps = 0.0, 0
    for _ in range(cases):
        world.to_paid(world.new_application("1500"))
    return world.spent, world.steps


def _bare_round(world: Any, cases: int) -> tuple[float, int]:
    from django.db import transaction

    apps = [world.new_application("1500") for _ in range(cases)]
    started = time.perf_counter()
    for app in apps:
        for name in PATH:
            with transaction.atomic():  # as the service: one transaction a transition
                getattr(app, name)()
                app.save()
    return time.perf_counter() - started, len(apps) * len(PATH)


def _origin(root: str) -> str:
    """The project app whose code issued the statement being run (its innermost frame)."""
    for frame in reversed(traceback.extract_stack()):
        path = os.path.relpath(frame.filename, root)
        if not path.startswith(("..", ".venv", "bench", "tests")) and os.sep in path:
            return path.split(os.sep, 1)[0]
    return "other"


@contextmanager
def statements_by_origin() -> Iterator[Counter[str]]:
    """Count the statements run inside the block by the app that issued them."""
    from django.conf import settings
    from django.db import connection

    origins: Counter[str] = Counter()
    root = str(settings.BASE_DIR)

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        origins[_origin(root)] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield origins


def counted_walk(
    world: Any, origins: Counter[str] | None = None
) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """Walk one case to paid with every statement counted, per transition and per case page.

    Each counted call gets its actor read afresh (outside the count), as a request would, and
    the case page is ``available_transitions`` for the actor of the step just run. With
    ``origins``, the transitions' statements are also added up there by the app that ran them.
    """
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows import services
    from workflows.selectors import available_transitions

    transitions: dict[str, Counter[str]] = {}
    pages: dict[str, Counter[str]] = {}
    timed_run = world.run

    def run(app: Any, name: str, actor: Any, **data: Any) -> Any:
        fresh = User.objects.get(pk=actor.pk)
        with CaptureQueriesContext(connection) as queries, statements_by_origin() as by_app:
            app = services.transition(app, actor=fresh, step=step_inputs.parse(name, {**data}))
        if origins is not None:
            origins.update(by_app)
        transitions[name] = statement_counts(q["sql"] for q in queries.captured_queries)
        fresh = User.objects.get(pk=actor.pk)
        with CaptureQueriesContext(connection) as queries:
            available_transitions(app, actor=fresh)
        pages[str(app.state)] = statement_counts(q["sql"] for q in queries.captured_queries)
        return app

    world.run = run
    try:
        world.to_paid(world.new_application("1500"))
    finally:
        world.run = timed_run
    return transitions, pages


def _budgets(vendor: str) -> tuple[dict[str, int], dict[str, int]]:
    """The query budgets the tests hold (per transition and per case page), for this database."""
    from tests.workflows.test_transition_query_counts import PAGE_BUDGET, TRANSITION_BUDGET

    return TRANSITION_BUDGET[vendor], PAGE_BUDGET[vendor]


def run() -> list[Result | Growth]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounting.models import Posting
    from audit.models import AuditEvent

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    world = _timed_world()
    _service_round(world, 2)  # warm up
    _bare_round(world, 2)
    world.spent_by.clear()
    world.steps_by.clear()
    service_s = bare_s = 0.0
    service_n = bare_n = 0
    for _ in range(2):  # interleaved, so drift hits both alike
        spent, steps = _service_round(world, CASES)
        service_s, service_n = service_s + spent, service_n + steps
        spent, steps = _bare_round(world, CASES)
        bare_s, bare_n = bare_s + spent, bare_n + steps
    bare_rate = bare_n / bare_s
    log_size = AuditEvent.objects.count()
    postings = Posting.objects.count()
    transition_budget, page_budget = _budgets(connection.vendor)
    origins: Counter[str] = Counter()
    counted, pages = counted_walk(world, origins)
    figures: list[Result | Growth] = [
        Result("bare django-fsm transition + save()", bare_rate, "transitions/s"),
        Result(
            f"transition() with checks, ledger and audit ({service_n} transitions)",
            service_n / service_s,
            "transitions/s",
            baseline=bare_rate,
            target="ratio >= 0.3",
        ),
        Result("  the same, as time per transition", service_s / service_n * 1000, "ms"),
        Result("  bare, as time per transition", bare_s / bare_n * 1000, "ms"),
    ]
    for name in PATH:
        figures.append(
            Result(
                f"  {name}",
                world.steps_by[name] / world.spent_by[name],
                "transitions/s",
                baseline=bare_rate,
            )
        )
    for name in PATH:
        counts = counted[name]
        figures.append(
            Result(
                f"  {name}: statements",
                sum(counts.values()),
                f"queries ({_counts_text(counts)})",
                target=f"<= {transition_budget[name]}",
            )
        )
    figures.append(
        Result(
            "  statements per transition, mean over the path",
            sum(sum(c.values()) for c in counted.values()) / len(counted),
            "queries",
        )
    )
    everything = sum(origins.values())
    figures += [
        Result(
            f"  share of the path's statements run by {app}",
            100 * n / everything,
            f"% ({n} of {everything}; COMMIT not counted here)",
        )
        for app, n in origins.most_common()
    ]
    for state, counts in pages.items():
        figures.append(
            Result(
                f"  available_transitions on a case page ({state})",
                sum(counts.values()),
                f"queries ({_counts_text(counts) or 'none'})",
                target=f"<= {page_budget[state]}",
            )
        )
    figures += [
        Result("  with this many events in the audit log", log_size, "events"),
        Result("  and this many postings in the ledger", postings, "postings"),
        Growth(
            "one transition() as the audit log grows",
            log_size,
            service_s / service_n,
            per_row=False,
        ),
    ]
    return figures
