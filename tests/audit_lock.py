"""Stopping a transaction part-way, without fault hooks in the code: hold the audit lock.

Every change appends its audit event last, in its own transaction, and on PostgreSQL an append
first takes the advisory lock ``audit.services.APPEND_LOCK_KEY``. A second database session
that holds that lock therefore stops any change (in a request, a task or a thread) right
before its commit, with its domain rows and postings written but not committed. The test
can then kill the process, terminate the session, or let it go on.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from audit.services import APPEND_LOCK_KEY
from tests.tasks.worker import conninfo

#: pg_locks shows a bigint advisory key as two 32-bit halves (classid, objid), objsubid 1.
_WAITING = """
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
      AND classid = %(high)s AND objid = %(low)s
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY pid
"""


class AuditLock:
    """A separate session on the test database that can hold the audit append lock."""

    def __init__(self) -> None:
        self.session = psycopg.connect(conninfo(), autocommit=True)
        self.held = False

    def hold(self) -> None:
        self.session.execute("SELECT pg_advisory_lock(%s)", [APPEND_LOCK_KEY])
        self.held = True

    def release(self) -> None:
        if self.held:
            self.session.execute("SELECT pg_advisory_unlock(%s)", [APPEND_LOCK_KEY])
            self.held = False

    def waiting(self) -> list[int]:
        """Backend pids of this database waiting for the lock (only this test's database)."""
        key = {"high": APPEND_LOCK_KEY >> 32, "low": APPEND_LOCK_KEY & 0xFFFFFFFF}
        return [row[0] for row in self.session.execute(_WAITING, key).fetchall()]

    def blocked_in(self, pid: int) -> str:
        """What the backend waits for and which tables its open transaction has written to
        (from pg_stat_activity and pg_locks: rows it wrote are invisible to other sessions)."""
        activity = self.session.execute(
            "SELECT wait_event_type, wait_event, state FROM pg_stat_activity WHERE pid = %s",
            [pid],
        ).fetchone()
        tables = self.session.execute(
            "SELECT DISTINCT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = %s AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r' ORDER BY 1",
            [pid],
        ).fetchall()
        waits = f"{activity[0]}:{activity[1]} ({activity[2]})" if activity else "gone"
        return f"waiting on {waits}, written to {', '.join(t for (t,) in tables)}"

    def alive(self, pid: int) -> bool:
        row = self.session.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return bool(row.fetchone()[0])  # type: ignore[index]

    def terminate(self, pid: int) -> bool:
        row = self.session.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
        return bool(row and row[0])

    def close(self) -> None:
        self.release()
        self.session.close()


@pytest.fixture
def audit_lock() -> Iterator[AuditLock]:
    lock = AuditLock()
    try:
        yield lock
    finally:
        lock.close()
