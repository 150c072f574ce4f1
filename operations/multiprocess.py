"""prometheus-client's multiprocess directory: where each process keeps its numbers.

Imported by gunicorn's configuration (config/gunicorn.conf.py) before Django is set up, so
nothing here may import a Django model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client.multiprocess import mark_process_dead

#: The variable prometheus-client reads (at import) to count in files instead of memory.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


#: ``counter_1234.db``, ``histogram_1234.db``, ``gauge_livesum_1234.db``: the writer's pid.
_PROCESS_FILE = re.compile(r"_(\d+)\.db\Z")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def clean_multiprocess_dir(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the files of processes no longer running, at start (gunicorn's ``on_starting``).

    Files of a previous run would be summed into this one's numbers forever. A running
    process's files stay: the Celery worker shares the directory and may be running while
    gunicorn restarts. Returns what was removed.
    """
    where = directory or multiprocess_dir()
    if not where or not Path(where).is_dir():
        return []
    path = Path(where)
    removed = []
    for file in sorted(path.glob("*.db")):
        match = _PROCESS_FILE.search(file.name)
        if match and not _running(int(match.group(1))):
            file.unlink(missing_ok=True)
            removed.append(file)
    return removed


def process_exited(pid: int) -> None:
    """A worker process ended (gunicorn's ``child_exit``): its live gauges stop counting."""
    directory = multiprocess_dir()
    if directory:
        mark_process_dead(pid, directory)
