"""Prometheus metrics: what the processes count, and the text ``/metrics`` answers.

Counters and histograms are counted where things happen (requests, Celery tasks, exports,
bank files read). Under gunicorn and Celery, ``PROMETHEUS_MULTIPROC_DIR`` names a directory
where every process keeps its own numbers (prometheus-client's multiprocess mode) and a scrape
sums them over processes; without it (the embedded mode) the process's own registry answers.
What the database knows (cases per state, batches waiting, bank exceptions, the audit log's
checkpoint and verification) is read at scrape time (:mod:`operations.state_metrics`).

Label values come only from fixed sets — route names, task names, export kinds, outcome
names, state and fund codes — never a path, a reference or a value a person typed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from accounting.models import ExportKind
from audit.exports import TRAIL_EXPORT_KIND
from core.observability import on_bank_answer, on_export
from operations.multiprocess import multiprocess_dir

logger = logging.getLogger("fundflow.metrics")

# No ``*_created`` series: the embedded mode would show them, the multiprocess mode cannot.
disable_created_metrics()

CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Request latencies: pages answer in tens of milliseconds, exports and imports in seconds.
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Tasks and exports: from a reminder (a second) to a year's ledger (minutes).
LONG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

REQUESTS = Counter(
    "fundflow_http_requests",
    "HTTP requests answered, by method, route name and status class.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "fundflow_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route name.",
    ["method", "route"],
    buckets=REQUEST_BUCKETS,
)
TASK_SECONDS = Histogram(
    "fundflow_task_duration_seconds",
    "Time a Celery task ran, by task name (failed runs included).",
    ["task"],
    buckets=LONG_BUCKETS,
)
TASK_FAILURES = Counter(
    "fundflow_task_failures", "Celery task runs that raised, by task name.", ["task"]
)
EXPORT_SECONDS = Histogram(
    "fundflow_export_duration_seconds",
    "Time an export took (SIE, ledger, audit trail), by kind and outcome.",
    ["kind", "outcome"],
    buckets=LONG_BUCKETS,
)
EXPORT_FAILURES = Counter(
    "fundflow_export_failures",
    "Exports that failed (an error or a full disk; refusals the user is told of are not).",
    ["kind"],
)
BANK_ANSWERS = Counter(
    "fundflow_bank_answer_payments",
    "Payments named in the bank files read (pain.002, camt.054), by what the bank said.",
    ["outcome"],
)

#: The only values each label may take; anything else is counted as ``other``.
EXPORT_KINDS = frozenset({*ExportKind.values, TRAIL_EXPORT_KIND})
EXPORT_OUTCOMES = frozenset({"ok", "refused", "failed"})
BANK_OUTCOMES = frozenset({"paid", "rejected", "not_booked", "unmatched", "exception"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


def fixed(value: str, allowed: Iterable[str]) -> str:
    """``value`` when it is one of the allowed label values, else ``other``."""
    return value if value in allowed else OTHER


def status_class(status_code: int) -> str:
    return f"{status_code // 100}xx" if 100 <= status_code <= 599 else OTHER


def count_request(method: str, route: str, status_code: int, seconds: float) -> None:
    """``route`` is a URL pattern's name (``web:case``), never the requested path."""
    method = fixed(method, HTTP_METHODS)
    REQUESTS.labels(method, route, status_class(status_code)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def count_export(kind: str, seconds: float, outcome: str) -> None:
    kind = fixed(kind, EXPORT_KINDS)
    EXPORT_SECONDS.labels(kind, fixed(outcome, EXPORT_OUTCOMES)).observe(seconds)
    if outcome == "failed":
        EXPORT_FAILURES.labels(kind).inc()


def count_bank_answer(outcomes: Mapping[str, int]) -> None:
    for outcome, count in outcomes.items():
        if count > 0:
            BANK_ANSWERS.labels(fixed(outcome, BANK_OUTCOMES)).inc(count)


# Celery tasks: the start time of each running task, by task id (one process runs it).
_task_started: dict[str, float] = {}


def _task_name(task: Any) -> str:
    return str(getattr(task, "name", None) or OTHER)


def _task_began(task_id: str | None = None, **_kw: Any) -> None:
    if task_id:
        _task_started[task_id] = time.perf_counter()


def _task_ended(task_id: str | None = None, task: Any = None, **_kw: Any) -> None:
    started = _task_started.pop(task_id or "", None)
    if started is not None:
        TASK_SECONDS.labels(_task_name(task)).observe(time.perf_counter() - started)


def _task_failed(sender: Any = None, **_kw: Any) -> None:
    TASK_FAILURES.labels(_task_name(sender)).inc()


def start_counting() -> None:
    """Subscribe to what the lower apps and Celery report (``OperationsConfig.ready``)."""
    on_export(count_export)
    on_bank_answer(count_bank_answer)
    task_prerun.connect(_task_began, dispatch_uid="fundflow-metrics-task-began", weak=False)
    task_postrun.connect(_task_ended, dispatch_uid="fundflow-metrics-task-ended", weak=False)
    task_failure.connect(_task_failed, dispatch_uid="fundflow-metrics-task-failed", weak=False)


# The scrape.


class _ThisProcess(Collector):
    """The process's own registry (embedded mode): our counters and the process's figures."""

    def collect(self) -> Iterable[Any]:
        return REGISTRY.collect()


def scrape() -> bytes:
    """The metrics in Prometheus' text format: every process's counters, the database's state."""
    from operations.state_metrics import StateCollector

    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector())
    return generate_latest(registry)
