"""Run benchmark modules (``python -m bench [--json PATH] [name ...]``) and print the figures.

With ``--json`` the figures, each module's run time and the machine they ran on are also
written as JSON, for ``make evidence`` to turn into docs/evidence.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django


def _machine() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "select sqlite_version()" if connection.vendor == "sqlite" else "show server_version"
        )
        version = cursor.fetchone()[0]
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": f"{connection.vendor} {version}",
        "load_average_at_start": os.getloadavg(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    parser.add_argument(
        "names", nargs="*", help="run only modules whose name contains one, in this order"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    import bench

    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    if args.names:  # in the order given; a module named twice runs twice
        names = [n for wanted in args.names for n in names if wanted in n]
    report: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "modules": [],
    }
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        figures = []
        for figure in module.run():
            print("  " + figure.line(), flush=True)
            figures.append({"type": type(figure).__name__, **dataclasses.asdict(figure)})
        spent = time.perf_counter() - started
        print(f"   ({spent:.1f} s)", flush=True)
        report["modules"].append({"name": name, "seconds": spent, "figures": figures})
    if args.json:
        report["machine"] = _machine()
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
