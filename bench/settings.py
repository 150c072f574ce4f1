"""Benchmarks run against their own database (BENCH_DATABASE_URL, default a SQLite file)."""

import os

os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL",
    "sqlite:///" + os.path.join(os.path.dirname(__file__), "..", "var", "bench.sqlite3"),
)
os.environ.setdefault("DEBUG", "1")

from config.settings import *  # noqa: F403
