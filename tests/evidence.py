"""Evidence: tests marked ``@pytest.mark.evidence(kind)`` become rows of ``docs/evidence.md``.

The report is generated from what the tests really did: each marked test contributes its
title (the docstring's first line), its outcome and, through the ``evidence`` fixture, table
rows of "what was tried -> what happened". ``--evidence-json PATH`` writes them as JSON (the
rows travel in ``user_properties``, so this works under pytest-xdist as well).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

KINDS = {
    "fault": "Faults: crashes and lost resources mid-operation",
    "bad_input": "Bad input",
    "security": "Security",
    "tamper": "Audit log tampering",
    "ledger": "Ledger invariants",
}


class EvidenceRecorder:
    """Adds "tried -> what happened" rows to the running test's evidence entry."""

    def __init__(self, node: pytest.Item) -> None:
        self._node = node

    def row(self, tried: str, outcome: str, **details: Any) -> None:
        entry = {"tried": tried, "outcome": outcome, **{k: str(v) for k, v in details.items()}}
        self._node.user_properties.append(("evidence_row", json.dumps(entry)))


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> EvidenceRecorder:
    """Record what a test tried and what happened, for the evidence report."""
    return EvidenceRecorder(request.node)


@pytest.fixture(autouse=True)
def _evidence_header(request: pytest.FixtureRequest) -> None:
    """Tag evidence tests with their kind, title and database, before anything can fail."""
    marker = request.node.get_closest_marker("evidence")
    if marker is None:
        return
    kind = marker.args[0] if marker.args else ""
    if kind not in KINDS:
        raise pytest.UsageError(f"evidence kind must be one of {sorted(KINDS)}, not {kind!r}")
    doc = (getattr(request.function, "__doc__", None) or "").strip()
    if doc:
        title = doc.splitlines()[0]
    else:
        words = request.function.__name__.removeprefix("test_").replace("_", " ")
        title = words[:1].upper() + words[1:]
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None:
        title += f" [{callspec.id}]"
    elif request.node.name.endswith("]") and "[" in request.node.name:
        # Items that share a node id (schemathesis: one per API operation) differ by name.
        title += f" [{request.node.name.split('[', 1)[1][:-1]}]"
    request.node.user_properties.extend(
        [("evidence_kind", kind), ("evidence_title", title), ("evidence_db", connection.vendor)]
    )


class _Collector:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(
            (k, v) for k, v in report.user_properties if k in ("evidence_kind", "evidence_title")
        )
        if "evidence_kind" not in props:
            return
        entry = self.entries.setdefault(
            f"{report.nodeid} {props['evidence_title']}",
            {
                "nodeid": report.nodeid,
                "kind": props["evidence_kind"],
                "title": props["evidence_title"],
                "database": dict(report.user_properties).get("evidence_db", ""),
                "outcome": "passed",
                "seconds": 0.0,
                "rows": [],
            },
        )
        entry["seconds"] += report.duration
        rows = [json.loads(v) for k, v in report.user_properties if k == "evidence_row"]
        if len(rows) >= len(entry["rows"]):  # teardown's report carries every row
            entry["rows"] = rows
        if report.failed:
            entry["outcome"] = "failed"
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["reason"] = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else "")

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # under xdist only the controller writes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "entries": sorted(self.entries.values(), key=lambda e: (e["nodeid"], e["title"])),
        }
        self.path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--evidence-json",
        default="",
        help="write the evidence tests' outcomes and rows to this JSON file",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"evidence(kind): a check reported in docs/evidence.md; kind is one of {sorted(KINDS)}",
    )
    path = config.getoption("--evidence-json")
    if path:
        config.pluginmanager.register(_Collector(Path(path)), "evidence-collector")
