"""Write docs/evidence.md from what ``make evidence`` measured and checked (JSON in var/evidence).

Nothing here is typed in by hand: every figure comes from a benchmark's JSON, every scenario
from a test that ran (its title, database, outcome and the rows it recorded), every tool's
verdict from its own output. A missing input is reported as missing, never filled in.

Usage: ``python scripts/evidence_report.py var/evidence docs/evidence.md``
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

KIND_TITLES = {
    "fault": "Faults",
    "bad_input": "Bad input",
    "security": "Security",
    "tamper": "Audit log tampering",
    "ledger": "Ledger invariants",
}
KIND_INTROS = {
    "fault": (
        "Each scenario breaks something real in the middle of an operation, then shows that "
        "nothing was lost, nothing was doubled, the audit chain verifies and the books balance."
    ),
    "bad_input": "What was tried, and what the system answered (taken from the real response).",
    "security": "Permission matrices (every cell requested and compared with the rule), "
    "deployment settings, session, CSRF, CSP and two-factor checks.",
    "tamper": (
        "An attacker with database owner rights changes the log; `audit_verify` must name the "
        "first broken entry. The database itself refuses UPDATE, DELETE and TRUNCATE."
    ),
    "ledger": (
        "The books balance by construction: the database refuses an unbalanced voucher at "
        "commit, on both backends; property-based runs and racing treasurers never break it."
    ),
}
MARK = {"passed": "pass", "failed": "**FAIL**", "skipped": "skipped", "missing": "not run"}


def load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def cell(text: Any, limit: int = 400) -> str:
    """A table cell: one line, pipes escaped, long text shortened."""
    value = " ".join(str(text).split()).replace("|", "\\|")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


# -- targets ---------------------------------------------------------------------------------

_TARGET = re.compile(r"^(?P<ratio>ratio\s+)?(?P<op><=|>=|<|>)\s*(?P<limit>[\d.]+)")


def target_met(figure: dict[str, Any], database: str) -> str:
    """'met', 'missed' or '' (no checkable target, or one for another database)."""
    target = figure.get("target") or ""
    match = _TARGET.match(target)
    if not match:
        return ""
    if "PostgreSQL" in target and not database.startswith("postgresql"):
        return ""
    if match["ratio"]:
        if not figure.get("baseline"):
            return ""
        value = figure["value"] / figure["baseline"]
    else:
        value = figure["value"]
    limit = float(match["limit"])
    ok = {
        "<": value < limit,
        "<=": value <= limit,
        ">": value > limit,
        ">=": value >= limit,
    }[match["op"]]
    return "met" if ok else "**missed**"


# -- performance -----------------------------------------------------------------------------

#: What the baselines of the bulk reads are: the plainest program doing the same work on the
#: same storage, in the same run (DESIGN.md, "Benchmarks need fair baselines").
BASELINES = [
    "Baselines of the bulk reads, both written without Django on the bare driver "
    "(`sqlite3`, or psycopg 3 with a named server-side cursor), one hand-written SELECT, "
    "`fetchmany(5000)`, on their own connection to the same database:",
    "",
    "- *Ledger CSV export*: the export's columns, joins and order into `csv.writer.writerows`; "
    "its file must be byte-identical to `export_ledger --format csv`'s (SHA-256 compared). "
    "Target: the export, in-process, at **ratio >= 0.7** of it, and <= 150 MB peak RSS at "
    "1 M rows.",
    "- *Audit verification*: every event in sequence order, the payload read as text and "
    "decoded with `json.loads` (the driver's fastest path: psycopg's own `jsonb` loader is "
    "several times slower), the hashed fields encoded as the "
    "chain's canonical JSON (sorted keys, no whitespace, UTF-8), SHA-256, and the hash and "
    "the link to the previous one compared. Target: `audit_verify`, which also recomputes "
    "the Merkle root against the signed checkpoint and checks the clock, at **ratio >= "
    "0.8** of it.",
]


def growth_verdict(points: list[dict[str, Any]]) -> str:
    """How time and memory grew, in words, judged between the two largest runs.

    The smallest runs are dominated by fixed costs (start-up, the first query), so the step
    between the two largest shows the trend; every point is in the table below it.
    """
    if len(points) < 2 or points[-1]["rows"] <= points[-2]["rows"]:
        return ""
    first, last = points[-2], points[-1]
    scale = last["rows"] / first["rows"]
    time_factor = last["seconds"] / first["seconds"] if first["seconds"] else float("inf")
    per_row = time_factor / scale
    step = f"from {first['rows']:,} to {last['rows']:,} rows ({scale:,.0f}x)"
    if 0.5 <= per_row <= 1.5:
        words = f"linear: {step} took {time_factor:,.1f}x the time"
    elif per_row < 0.5 and time_factor <= 1.5:
        words = f"constant: {step} took {time_factor:,.2f}x the time"
    elif per_row < 0.5:
        words = f"sub-linear: {step} took {time_factor:,.1f}x the time"
    else:
        words = f"**worse than linear**: {step} took {time_factor:,.1f}x the time"
    memory = [p["peak_mb"] for p in points if p.get("peak_mb") is not None]
    if len(memory) == len(points):
        spread = max(memory) - min(memory)
        shape = "constant memory" if spread <= 25 else "**memory grows**"
        words += f"; {shape} (peak {min(memory):,.1f} to {max(memory):,.1f} MB above start-up)"
    return words


def bench_section(report: dict[str, Any] | None, label: str, command: str) -> list[str]:
    if report is None:
        return [f"_Not run on {label}: {command} did not produce its figures._", ""]
    machine = report.get("machine", {})
    database = machine.get("database", label)
    lines = [
        f"Measured {report['started']} on {database}, Python {machine.get('python', '?')}, "
        f"{machine.get('cpus', '?')} CPUs (load average at start "
        f"{', '.join(f'{x:.2f}' for x in machine.get('load_average_at_start', []))}). "
        f"Command: `{command}`.",
        "",
    ]
    growth: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for module in report["modules"]:
        figures = [f for f in module["figures"] if f["type"] == "Result"]
        for figure in module["figures"]:
            if figure["type"] == "Growth":
                growth[figure["series"]].append(figure)
        lines += [
            f"**{module['name']}** ({module['seconds']:.0f} s)",
            "",
            "| figure | value | baseline (same run) | ratio | target | |",
            "|---|---|---|---|---|---|",
        ]
        for f in figures:
            baseline = number(f["baseline"]) if f.get("baseline") else ""
            ratio = f"{f['value'] / f['baseline']:.3f}" if f.get("baseline") else ""
            lines.append(
                f"| {cell(f['name'])} | {number(f['value'])} {cell(f['unit'])} | {baseline} "
                f"| {ratio} | {cell(f.get('target', ''))} | {target_met(f, database)} |"
            )
        lines.append("")
    for series, points in growth.items():
        points.sort(key=lambda p: p["rows"])
        verdict = growth_verdict(points)
        lines += [
            f"How *{series}* grows" + (f": {verdict}." if verdict else "."),
            "",
            "| rows | time | per row | peak memory above start-up |",
            "|---|---|---|---|",
        ]
        for p in points:
            memory = f"{p['peak_mb']:.1f} MB" if p.get("peak_mb") is not None else ""
            per_row = (
                f"{p['seconds'] / p['rows'] * 1e6:.2f} µs" if p.get("per_row", True) else "n/a"
            )
            lines.append(f"| {p['rows']:,} | {p['seconds']:.4f} s | {per_row} | {memory} |")
        lines.append("")
    return lines


# -- checks ------------------------------------------------------------------------------------


def matrix_tables(rows: list[dict[str, Any]]) -> list[str]:
    """Pivot matrix rows (matrix, target, role, outcome) into one table per matrix."""
    by_matrix: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    roles: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        name = row["matrix"]
        by_matrix[name][row["target"]][row["role"]] = row["outcome"]
        if row["role"] not in roles[name]:
            roles[name].append(row["role"])
    lines: list[str] = []
    for name, targets in by_matrix.items():
        cells = sum(len(v) for v in targets.values())
        lines += [
            f"*{name}* — {len(targets)} x {len(roles[name])} = {cells} cells, each one requested:",
            "",
            "| | " + " | ".join(roles[name]) + " |",
            "|---|" + "---|" * len(roles[name]),
        ]
        for target, outcomes in targets.items():
            lines.append(
                f"| {cell(target)} | "
                + " | ".join(cell(outcomes.get(r, "")) for r in roles[name])
                + " |"
            )
        lines.append("")
    return lines


def scenario_outcome(variants: list[dict[str, Any]], database: str) -> str:
    """One cell: a scenario's variants on one database ("pass (3 variants, 1.2 s)")."""
    results = [v["results"].get(database) for v in variants]
    ran = [r for r in results if r is not None]
    if not ran:
        return MARK["missing"]
    seconds = sum(r["seconds"] for r in ran)
    size = f"{len(ran)} variants, " if len(ran) > 1 else ""
    failed = [r for r in ran if r["outcome"] == "failed"]
    skipped = [r for r in ran if r["outcome"] == "skipped"]
    if failed:
        return f"**FAIL** ({len(failed)} of {len(ran)})"
    if skipped:
        reason = cell(skipped[0].get("reason", ""))[:80]
        return f"skipped ({len(skipped)} of {len(ran)}: {reason})"
    if len(ran) < len(variants):
        return f"pass ({size}{seconds:.1f} s; {len(variants) - len(ran)} not run here)"
    return f"pass ({size}{seconds:.1f} s)"


def checks_section(kind: str, runs: dict[str, dict[str, Any] | None]) -> tuple[list[str], dict]:
    """One section per kind: a summary table per database, then each scenario's rows."""
    counts: dict[str, dict[str, int]] = {}
    entries_by_title: dict[str, dict[str, Any]] = {}
    for database, run in runs.items():
        if run is None:
            continue
        tally = counts.setdefault(database, defaultdict(int))
        for entry in run["entries"]:
            if entry["kind"] != kind:
                continue
            tally[entry["outcome"]] += 1
            key = f"{entry['nodeid']} {entry['title']}"
            merged = entries_by_title.setdefault(
                key, {"title": entry["title"], "nodeid": entry["nodeid"], "results": {}, "rows": []}
            )
            merged["results"][database] = entry
            if len(entry["rows"]) > len(merged["rows"]):
                merged["rows"] = entry["rows"]
    databases = [d for d in runs if runs[d] is not None]
    lines = [
        KIND_INTROS[kind],
        "",
        "| scenario | " + " | ".join(databases) + " |",
        "|---|" + "---|" * len(databases),
    ]
    matrix_rows: list[dict[str, Any]] = []
    detail: list[str] = []
    scenarios: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for merged in entries_by_title.values():  # parametrized variants share one line
        scenarios[re.sub(r" \[[^\]]*\]$", "", merged["title"])].append(merged)
    for title, variants in scenarios.items():
        outcome = [scenario_outcome(variants, database) for database in databases]
        lines.append(f"| {cell(title)} | " + " | ".join(outcome) + " |")
        for merged in variants:
            table_rows = [r for r in merged["rows"] if "matrix" not in r]
            matrix_rows += [r for r in merged["rows"] if "matrix" in r]
            if table_rows:
                detail += [
                    f"*{cell(merged['title'])}* (`{merged['nodeid']}`)",
                    "",
                    "| tried | what happened |",
                    "|---|---|",
                    *(
                        f"| {cell(r['tried'], 1000)} | {cell(r['outcome'], 2000)} |"
                        for r in table_rows
                    ),
                    "",
                ]
    lines.append("")
    if detail:
        lines += ["What each scenario tried and saw:", "", *detail]
    if matrix_rows:
        lines += matrix_tables(matrix_rows)
    return lines, counts


def tool_section(directory: Path) -> list[str]:
    """Results of the security tools: check --deploy, then ruff S, bandit and pip-audit."""
    lines: list[str] = []
    for name in sorted(directory.glob("tool-*.json")):
        tool = json.loads(name.read_text())
        lines += [
            f"**{tool['title']}** — `{tool['command']}`: {tool['verdict']}",
            "",
        ]
        if tool.get("details"):
            lines += ["```", *tool["details"][:40], "```", ""]
    audit = load(directory / "security-audit.json")
    if audit is None:
        lines += ["_`scripts/security_audit.sh` left no summary._", ""]
    else:
        ruff, bandit, deps = audit["ruff_s"], audit["bandit"], audit["pip_audit"]
        lines += [
            "**`scripts/security_audit.sh`**",
            "",
            f"- ruff's flake8-bandit rules (S) over the whole tree: {ruff['findings']} findings.",
            f"- bandit over the production code: {bandit['findings']} findings, "
            f"{bandit.get('suppressed_with_nosec', 0)} suppressed with a written reason, "
            f"{bandit.get('errors', 0)} errors ({bandit.get('lines_of_code', '?')} lines).",
        ]
        if deps["status"] == "unverified":
            lines.append(
                "- pip-audit over requirements.lock: **NOT AUDITED** — no vulnerability service "
                "could check every pinned version from this machine:"
            )
            lines += [
                f"  - {cell(json.dumps(tried, ensure_ascii=False))}" for tried in deps["tried"]
            ]
        else:
            lines.append(
                f"- pip-audit over requirements.lock ({deps['service']}): "
                f"{deps['dependencies']} pinned packages, {deps['vulnerabilities']} known "
                f"vulnerabilities: **{deps['status']}**."
            )
            lines += [f"  - {cell(json.dumps(p))}" for p in deps["vulnerable_packages"]]
        lines.append("")
    return lines


# -- the document ------------------------------------------------------------------------------


def open_points(
    run: dict[str, Any],
    tests: dict[str, dict[str, Any] | None],
    benches: dict[str, dict[str, Any] | None],
    audit: dict[str, Any] | None = None,
) -> list[str]:
    """Everything that did not pass: failed steps, failed or skipped checks, missed targets."""
    points = [
        f"- Step `{step['name']}` exited with {step['status']}."
        for step in run.get("steps", [])
        if step["status"] != 0 and not (step["name"] == "security-audit" and step["status"] == 2)
    ]
    if audit is not None and audit["pip_audit"]["status"] == "unverified":
        points.append(
            "- **pip-audit could not audit the locked dependencies**: no vulnerability service "
            "answered from this machine (see Security, Tools). Whether a pinned version has a "
            "known vulnerability is unknown until it runs where PyPI's JSON API or OSV answers."
        )
    for database, result in tests.items():
        if result is None:
            points.append(f"- The checks did not run on {database}.")
            continue
        for entry in result["entries"]:
            if entry["outcome"] != "passed":
                points.append(
                    f"- {entry['outcome'].capitalize()} on {database}: {cell(entry['title'])} "
                    f"(`{entry['nodeid']}`)."
                )
    for database, bench in benches.items():
        if bench is None:
            points.append(f"- The benchmarks did not run on {database}.")
            continue
        vendor = bench.get("machine", {}).get("database", database)
        for module in bench["modules"]:
            for figure in module["figures"]:
                if figure["type"] == "Result" and target_met(figure, vendor) == "**missed**":
                    ratio = (
                        f" (ratio {figure['value'] / figure['baseline']:.3f})"
                        if figure.get("baseline")
                        else ""
                    )
                    points.append(
                        f"- Target missed on {database}: {cell(figure['name'])} = "
                        f"{number(figure['value'])} {cell(figure['unit'])}{ratio}, "
                        f"target {cell(figure['target'])}."
                    )
    return points or ["None: every step, check and target passed."]


def render(directory: Path) -> str:
    run = load(directory / "run.json") or {}
    tests = {
        "SQLite": load(directory / "tests-sqlite.json"),
        "PostgreSQL": load(directory / "tests-postgres.json"),
    }
    out = [
        "# Evidence: reliability, security and performance",
        "",
        f"Generated {run.get('finished', '?')} by `make evidence` at commit "
        f"`{run.get('commit', '?')}` on {run.get('machine', '?')}, in "
        f"{run.get('seconds', 0) / 60:.1f} minutes. Every figure and verdict below was produced "
        "by that run; rerun `make evidence` to regenerate this file (set `POSTGRES_TEST_URL` "
        "and `CELERY_TEST_BROKER_URL` as `.ci/run` does for the PostgreSQL and Celery parts).",
        "",
        "## Steps of this run",
        "",
        "| step | command | exit | time |",
        "|---|---|---|---|",
    ]
    for step in run.get("steps", []):
        command = step["command"].replace(run.get("root", "") + "/", "")
        out.append(
            f"| {cell(step['name'])} | `{cell(command)}` | {step['status']} "
            f"| {step['seconds']:.0f} s |"
        )
    out += ["", "## Summary", "", "| area | " + " | ".join(tests) + " |", "|---|---|---|"]
    sections: list[str] = []
    for kind, title in KIND_TITLES.items():
        lines, counts = checks_section(kind, tests)
        summary = []
        for database in tests:
            tally = counts.get(database)
            if not tally:
                summary.append(MARK["missing"])
                continue
            parts = [f"{tally[k]} {MARK[k]}" for k in ("passed", "failed", "skipped") if tally[k]]
            summary.append(", ".join(parts))
        out.append(f"| {title} | " + " | ".join(summary) + " |")
        sections += [f"## {title}", "", *lines]
        if kind == "security":
            sections += ["### Tools", "", *tool_section(directory)]
    benches = {
        "SQLite": load(directory / "bench-sqlite.json"),
        "PostgreSQL": load(directory / "bench-postgres.json"),
    }
    audit = load(directory / "security-audit.json")
    out += ["", "## Open points found by this run", "", *open_points(run, tests, benches, audit)]
    out += ["", "## Performance", ""]
    out += [
        "Each figure is measured with its baseline in the same run, on this machine; the ratio "
        "is figure / baseline. Time figures are medians or best of repeated rounds where the "
        "benchmark says so. Other processes share the two cores, so absolute numbers move "
        "between runs; the ratios move less.",
        "",
        *BASELINES,
        "",
        "### SQLite (the embedded default)",
        "",
        *bench_section(
            load(directory / "bench-sqlite.json"), "SQLite", run.get("bench_sqlite_command", "")
        ),
        "### PostgreSQL 15 (the production path)",
        "",
        *bench_section(
            load(directory / "bench-postgres.json"),
            "PostgreSQL",
            run.get("bench_postgres_command", ""),
        ),
    ]
    out += ["", *sections]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    directory, target = Path(argv[0]), Path(argv[1])
    target.write_text(render(directory))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
