"""docs/evidence.md is written from measured JSON only: targets, growth and gaps are computed.

Also: the evidence plugin really records what a marked test did (title, outcome, rows).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
_spec = importlib.util.spec_from_file_location(
    "evidence_report", ROOT / "scripts/evidence_report.py"
)
assert _spec is not None and _spec.loader is not None
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def _figure(value: float, target: str, baseline: float | None = None) -> dict[str, Any]:
    return {"type": "Result", "name": "x", "value": value, "unit": "", "baseline": baseline,
            "target": target}  # fmt: skip


@pytest.mark.parametrize(
    ("figure", "database", "verdict"),
    [
        (_figure(0.1 * 1000, "ratio >= 0.5", baseline=1000), "sqlite 3", "**missed**"),
        (_figure(900, "ratio >= 0.5", baseline=1000), "sqlite 3", "met"),
        (_figure(28, "< 30 %"), "sqlite 3", "met"),
        (_figure(31, "< 30 %"), "sqlite 3", "**missed**"),
        (_figure(160, "< 150 ms on PostgreSQL"), "sqlite 3", ""),  # not this database's target
        (_figure(160, "< 150 ms on PostgreSQL"), "postgresql 15", "**missed**"),
        (_figure(3, "bounded (chunks)"), "sqlite 3", ""),
    ],
)
def test_targets_are_checked_against_the_measured_value_or_ratio(figure, database, verdict):
    assert report.target_met(figure, database) == verdict


def _points(*rows_seconds_mb: tuple[int, float, float | None]) -> list[dict[str, Any]]:
    return [{"rows": r, "seconds": s, "peak_mb": m} for r, s, m in rows_seconds_mb]


def test_growth_is_called_linear_only_when_time_per_row_holds():
    linear = report.growth_verdict(_points((10_000, 0.4, 5.0), (1_000_000, 41.0, 9.0)))
    worse = report.growth_verdict(_points((10_000, 0.4, 5.0), (1_000_000, 400.0, 9.0)))
    growing = report.growth_verdict(_points((10_000, 0.4, 5.0), (1_000_000, 40.0, 500.0)))
    flat = report.growth_verdict(_points((10_000, 0.05, None), (100_000, 0.06, None)))

    assert linear.startswith(
        "linear: from 10,000 to 1,000,000 rows (100x) took 102.5x the time; constant memory"
    )
    assert worse.startswith("**worse than linear**")
    assert "**memory grows**" in growing
    assert flat.startswith("constant: from 10,000 to 100,000 rows (10x) took 1.20x the time")


def test_growth_is_judged_between_the_two_largest_runs():
    """The smallest run is mostly start-up; the trend shows between the largest two."""
    points = _points((10_000, 0.5, 9.0), (100_000, 1.0, 9.0), (1_000_000, 10.0, 9.0))
    assert report.growth_verdict(points).startswith("linear: from 100,000 to 1,000,000 rows")


def _write(directory: Path, name: str, data: dict[str, Any]) -> None:
    (directory / name).write_text(json.dumps(data))


def test_a_report_shows_failures_and_missing_parts_instead_of_hiding_them(tmp_path):
    entry = {"kind": "tamper", "database": "sqlite", "seconds": 0.1, "rows": []}
    _write(tmp_path, "tests-sqlite.json", {"entries": [
        {**entry, "nodeid": "t::a", "title": "A changed payload is found", "outcome": "passed",
         "rows": [{"tried": "manage.py audit_verify", "outcome": "exit 1: BROKEN at 4"}]},
        {**entry, "nodeid": "t::b", "title": "A deleted entry is found", "outcome": "failed"},
        {**entry, "kind": "security", "nodeid": "t::m", "title": "Pages", "outcome": "passed",
         "rows": [{"tried": "GET /", "outcome": "403", "matrix": "web pages",
                   "target": "worklist", "role": "treasurer"}]},
    ]})  # fmt: skip

    _write(tmp_path, "security-audit.json", {
        "ruff_s": {"findings": 0}, "bandit": {"findings": 0},
        "pip_audit": {"status": "unverified", "tried": [{"service": "osv", "result": "no report"}]},
    })  # fmt: skip

    text = report.render(tmp_path)

    assert "| Audit log tampering | 1 pass, 1 **FAIL** | not run |" in text
    assert "- **pip-audit could not audit the locked dependencies**" in text
    assert "pip-audit over requirements.lock: **NOT AUDITED**" in text
    assert "| A deleted entry is found | **FAIL** (1 of 1) |" in text
    assert "| manage.py audit_verify | exit 1: BROKEN at 4 |" in text
    assert "*web pages* - 1 x 1 = 1 cells" in text.replace("—", "-")
    assert "| worklist | 403 |" in text
    assert "_Not run on PostgreSQL" in text
    assert "| Faults | not run | not run |" in text
    assert "- Failed on SQLite: A deleted entry is found (`t::b`)." in text
    assert "- The checks did not run on PostgreSQL." in text


_MARKED_TESTS = '''
import pytest

@pytest.mark.evidence("bad_input")
def test_a_refusal(evidence):
    """Amounts with three decimals are refused."""
    evidence.row(tried="1.005", outcome="refused")

@pytest.mark.evidence("fault")
@pytest.mark.parametrize("n", [1])
def test_kill_it(n):
    assert n == 2

def test_not_evidence():
    pass
'''


def test_the_plugin_records_marked_tests_with_their_rows_and_outcome(tmp_path):
    (tmp_path / "test_marked.py").write_text(_MARKED_TESTS)
    out = tmp_path / "evidence.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.evidence",
         f"--rootdir={tmp_path}", "-c", "/dev/null", f"--evidence-json={out}", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # the fault test fails on purpose
    entries = {e["title"]: e for e in json.loads(out.read_text())["entries"]}

    assert set(entries) == {"Amounts with three decimals are refused.", "Kill it [1]"}
    refusal = entries["Amounts with three decimals are refused."]
    assert (refusal["kind"], refusal["outcome"]) == ("bad_input", "passed")
    assert refusal["rows"] == [{"tried": "1.005", "outcome": "refused"}]
    assert entries["Kill it [1]"]["outcome"] == "failed"
