"""The security audit of ``make evidence`` (CI's last step) fails on any bandit finding in the
production code. This test runs the same bandit, with the project's own configuration, inside
``make test``: a finding fails here, minutes into the suite, not after it.

A line that must stay as it is carries ``# nosec <test id>`` with its reason next to it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_production_code_has_no_bandit_finding_without_a_stated_reason() -> None:
    bandit = Path(sys.executable).with_name("bandit")
    result = subprocess.run(
        [str(bandit), "-q", "-c", "pyproject.toml", "-r", ".", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["errors"] == []
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == []
