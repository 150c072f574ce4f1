"""Workflow transitions per second: the full service against the bare django-fsm transition.

The same eight transitions (submit … confirm_paid) are timed two ways on fresh cases:

* **service**: ``workflows.services.transition()`` — row lock, role, scope and segregation
  checks, validation, domain rows, ledger vouchers/commitments and the audit append, in one
  transaction. Only the time inside ``transition()`` counts (the statutory assessment and the
  payout batch between them are not transitions).
* **bare**: the model's django-fsm method and ``save()`` — state change only, no checks.

``BENCH_TRANSITION_CASES`` sets the number of cases per round (two interleaved rounds). Run it
again after the audit and export benches (``python -m bench transitions audit export
transitions``) to see one transition's cost against a log of a million events.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench import Growth, Result

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


def _timed_world() -> Any:
    """The bench world, with the time spent inside ``transition()`` added up."""
    from bench.world import bench_world
    from workflows import services, step_inputs

    world = bench_world()
    world.spent = 0.0
    world.steps = 0

    def run(app: Any, name: str, actor: Any, **data: Any) -> Any:
        step = step_inputs.parse(name, data)
        started = time.perf_counter()
        result = services.transition(app, actor=actor, step=step)
        world.spent += time.perf_counter() - started
        world.steps += 1
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


def run() -> list[Result | Growth]:
    from django.conf import settings
    from django.core.management import call_command

    from accounting.models import Posting
    from audit.models import AuditEvent

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    world = _timed_world()
    _service_round(world, 2)  # warm up
    _bare_round(world, 2)
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
    return [
        Result("bare django-fsm transition + save()", bare_rate, "transitions/s"),
        Result(
            f"transition() with checks, ledger and audit ({service_n} transitions)",
            service_n / service_s,
            "transitions/s",
            baseline=bare_rate,
        ),
        Result("  the same, as time per transition", service_s / service_n * 1000, "ms"),
        Result("  with this many events in the audit log", log_size, "events"),
        Result("  and this many postings in the ledger", postings, "postings"),
        Growth(
            "one transition() as the audit log grows",
            log_size,
            service_s / service_n,
            per_row=False,
        ),
    ]
