"""Issue #18: under gunicorn's workers and Celery's, /metrics is the sum over processes.

prometheus-client's multiprocess mode: each process counts into its own files in
PROMETHEUS_MULTIPROC_DIR; gunicorn's start forgets the files of processes that are gone, and
a worker that exits is marked dead (config/gunicorn.conf.py).
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from operations.multiprocess import MULTIPROC_DIR_VARIABLE, clean_multiprocess_dir

ROOT = Path(__file__).resolve().parents[2]

COUNT = """
import sys, django
django.setup()
from operations.metrics import count_request
for _ in range(int(sys.argv[1])):
    count_request("GET", "web:home", 200, 0.02)
"""
SCRAPE = """
import django
django.setup()
from operations import metrics, state_metrics
state_metrics.StateCollector.collect = lambda self: iter(())  # no database in this process
print(metrics.scrape().decode())
"""


def run_python(code: str, directory: Path, *args: str) -> str:
    env = {
        **os.environ,
        MULTIPROC_DIR_VARIABLE: str(directory),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "FUNDFLOW_VAR_DIR": str(directory.parent / "var"),
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_numbers_are_summed_over_processes(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    run_python(COUNT, directory, "1")
    run_python(COUNT, directory, "3")
    text = run_python(SCRAPE, directory)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    labels = (("method", "GET"), ("route", "web:home"), ("status", "2xx"))
    assert samples[("fundflow_http_requests_total", labels)] == 4
    duration = (("method", "GET"), ("route", "web:home"))
    assert samples[("fundflow_http_request_duration_seconds_count", duration)] == 4


def test_the_start_forgets_only_the_files_of_processes_gone(tmp_path):
    gone, alive = dead_pid(), os.getpid()
    for name in (f"counter_{gone}.db", f"histogram_{gone}.db", f"counter_{alive}.db"):
        (tmp_path / name).write_bytes(b"")
    removed = clean_multiprocess_dir(tmp_path)
    assert sorted(p.name for p in removed) == [f"counter_{gone}.db", f"histogram_{gone}.db"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{alive}.db"]


def test_without_the_directory_nothing_is_cleaned(tmp_path, monkeypatch):
    monkeypatch.delenv(MULTIPROC_DIR_VARIABLE, raising=False)
    (tmp_path / f"counter_{dead_pid()}.db").write_bytes(b"")
    assert clean_multiprocess_dir() == []
    assert clean_multiprocess_dir(tmp_path / "missing") == []


def test_gunicorn_cleans_at_start_and_marks_an_exited_worker_dead(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, str(tmp_path))
    hooks = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    old = tmp_path / f"counter_{dead_pid()}.db"
    old.write_bytes(b"")
    hooks["on_starting"](object())
    assert not old.exists()

    class Worker:
        pid = os.getpid()  # alive, so only the exit hook may remove its live gauges

    live_gauge = tmp_path / f"gauge_livesum_{Worker.pid}.db"
    counter = tmp_path / f"counter_{Worker.pid}.db"
    live_gauge.write_bytes(b"")
    counter.write_bytes(b"")
    hooks["child_exit"](object(), Worker())
    assert not live_gauge.exists()
    assert counter.exists()  # its requests still count in the sum
