#!/usr/bin/env bash
# Security audit of the code and the locked dependencies, as JSON evidence in var/evidence/:
#   pip-audit.json      pip-audit on requirements.lock (known vulnerabilities per pinned version)
#   bandit.json         bandit on the production code (config: [tool.bandit] in pyproject.toml)
#   ruff-security.json  ruff's flake8-bandit rules (S) on the whole tree, tests included
#   security-audit.json the summary below, one object per tool
#   pip-audit.<service>.json / .log, bandit.log: each run's own report and messages
#
# Exit status: 0 all clean and every dependency audited; 1 a finding (a vulnerable package,
# a bandit or ruff S finding); 2 no finding, but pip-audit could not audit every dependency
# (no vulnerability service answered): that is reported, never passed off as clean.
#
# pip-audit asks PyPI's JSON API per pinned version first, then OSV. Each dependency it cannot
# look up is listed with its reason in pip-audit.json. --strict would stop at the first such
# dependency without writing the report, so this script applies the same rule itself.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
OUT=${EVIDENCE_DIR:-var/evidence}
mkdir -p "$OUT"

echo "== ruff --select S (flake8-bandit rules), whole tree"
$BIN/ruff check --select S --output-format json --exit-zero . >"$OUT/ruff-security.json"

echo "== bandit, production code"
$BIN/bandit -c pyproject.toml -r . -q -f json -o "$OUT/bandit.json" 2>"$OUT/bandit.log"
bandit_status=$?

echo "== pip-audit, requirements.lock"
rm -f "$OUT"/pip-audit.*
for service in pypi osv; do
  echo "-- vulnerability service: $service"
  $BIN/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off \
    --vulnerability-service "$service" -f json -o "$OUT/pip-audit.$service.json" \
    >"$OUT/pip-audit.$service.log" 2>&1
  if $BIN/python - "$OUT/pip-audit.$service.json" <<'EOF'
import json, sys
try:
    deps = json.load(open(sys.argv[1]))["dependencies"]
except (OSError, ValueError, KeyError):
    sys.exit(1)  # no report: the service was not reached
sys.exit(0 if deps and not any("skip_reason" in d for d in deps) else 1)
EOF
  then
    break  # every dependency audited by this service
  fi
done

$BIN/python - "$OUT" "$bandit_status" <<'EOF'
import json
import sys
from pathlib import Path

out, bandit_status = Path(sys.argv[1]), int(sys.argv[2])
summary = {}

ruff = json.loads((out / "ruff-security.json").read_text() or "[]")
summary["ruff_s"] = {
    "findings": len(ruff),
    "rules": sorted({f["code"] for f in ruff}),
    "report": str(out / "ruff-security.json"),
}

try:
    bandit = json.loads((out / "bandit.json").read_text())
    totals = bandit["metrics"]["_totals"]
    summary["bandit"] = {
        "findings": len(bandit["results"]),
        "suppressed_with_nosec": totals.get("skipped_tests", 0),
        "lines_of_code": totals.get("loc", 0),
        "errors": len(bandit["errors"]),
        "report": str(out / "bandit.json"),
    }
except (OSError, ValueError, KeyError):
    summary["bandit"] = {"findings": None, "errors": 1, "exit": bandit_status}

audit = {"status": "unverified", "report": str(out / "pip-audit.json"), "tried": []}
chosen = None
for service in ("pypi", "osv"):
    path = out / f"pip-audit.{service}.json"
    if not path.exists():
        log = out / f"pip-audit.{service}.log"
        lines = log.read_text().strip().splitlines() if log.exists() else []
        if lines:
            audit["tried"].append(
                {"service": service, "result": "no report", "error": lines[-1][:300]}
            )
        continue
    deps = json.loads(path.read_text()).get("dependencies", [])
    skipped = [d for d in deps if "skip_reason" in d]
    audit["tried"].append(
        {"service": service, "dependencies": len(deps), "not_audited": len(skipped),
         "example": skipped[0]["skip_reason"] if skipped else None}
    )
    if chosen is None or len(skipped) < chosen[2]:
        chosen = (service, deps, len(skipped))
if chosen is not None:
    service, deps, not_audited = chosen
    vulnerable = [
        {"name": d["name"], "version": d["version"],
         "vulns": [{"id": v["id"], "fix_versions": v.get("fix_versions", [])} for v in d["vulns"]]}
        for d in deps if d.get("vulns")
    ]
    audit.update(
        service=service, dependencies=len(deps), not_audited=not_audited,
        vulnerable_packages=vulnerable,
        vulnerabilities=sum(len(p["vulns"]) for p in vulnerable),
    )
    if vulnerable:
        audit["status"] = "vulnerable"
    elif deps and not not_audited:
        audit["status"] = "clean"
    (out / "pip-audit.json").write_text((out / f"pip-audit.{service}.json").read_text())
summary["pip_audit"] = audit
(out / "security-audit.json").write_text(json.dumps(summary, indent=1) + "\n")

print(f"ruff S: {summary['ruff_s']['findings']} findings")
b = summary["bandit"]
print(f"bandit: {b['findings']} findings ({b.get('suppressed_with_nosec', 0)} suppressed "
      f"with a reason), {b['errors']} errors")
if audit["status"] == "unverified":
    print("pip-audit: NOT AUDITED - no vulnerability service could check every dependency:")
    for tried in audit["tried"]:
        print(f"  {tried}")
else:
    print(f"pip-audit ({audit['service']}): {audit['dependencies']} dependencies, "
          f"{audit['vulnerabilities']} known vulnerabilities, status {audit['status']}")
    for package in audit["vulnerable_packages"]:
        print(f"  {package}")
print(f"summary: {out / 'security-audit.json'}")

if summary["ruff_s"]["findings"] or b["findings"] or b["errors"] or audit["status"] == "vulnerable":
    sys.exit(1)
sys.exit(2 if audit["status"] == "unverified" else 0)
EOF
