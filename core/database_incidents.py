"""A database that stops answering (full or read-only disk, lost server) is one incident.

A full disk fails every request until someone frees space; logging each failure would bury
the first (and the rest of the log) under thousands of identical lines. So, per process, the
first failure of a kind is logged once at ERROR — its class, its driver code and the first
line of its message, which names no person — later failures are only counted, and the first
request that writes again logs one INFO line with the count.

A request reports through :func:`watching_request` (the web middleware); code that catches a
failure and answers for it (the API's error handler, the idle-tail checkpoint) calls
:func:`note_failure`, which a request counts once and which is counted directly elsewhere.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DatabaseError, Error, InterfaceError, OperationalError

logger = logging.getLogger("fundflow.database")

#: PostgreSQL's read_only_sql_transaction: a standby, or a database set read-only.
READ_ONLY_SQLSTATES = frozenset({"25006"})
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def unavailable_error(exc: BaseException | None) -> Error | None:
    """The database failure behind ``exc`` (itself or what it was raised from), if any.

    Lost connections, full or read-only disks and timeouts are ``OperationalError`` or
    ``InterfaceError``; a read-only PostgreSQL answers ``InternalError`` with SQLSTATE 25006.
    Integrity and programming errors are not outages and are not matched.
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError):
            return exc
        if isinstance(exc, DatabaseError) and _sqlstate(exc) in READ_ONLY_SQLSTATES:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(exc.__cause__, "sqlstate", "") or "")


def kind_of(exc: BaseException) -> str:
    """``OperationalError SQLITE_FULL``: the class and the driver's code, never values."""
    cause = exc.__cause__
    code = getattr(cause, "sqlite_errorname", None) or getattr(cause, "sqlstate", None) or ""
    return f"{type(exc).__name__} {code}".strip()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class DatabaseIncidents:
    """The open incident of this process: the kinds already logged and the failures counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: set[str] = set()
        self._failures = 0

    @property
    def open(self) -> bool:
        return self._failures > 0

    def failed(self, exc: BaseException, where: str = "") -> None:
        kind = kind_of(exc)
        with self._lock:
            self._failures += 1
            new = kind not in self._kinds
            self._kinds.add(kind)
        if new:
            logger.error(
                "database unavailable%s: %s: %s (further failures are counted, not logged, "
                "until a request writes again)",
                f" during {where}" if where else "",
                kind,
                first_line(exc),
            )

    def succeeded(self) -> None:
        with self._lock:
            failures, self._failures = self._failures, 0
            self._kinds.clear()
        if failures:
            logger.info("database recovered after %d failed requests", failures)

    def reset(self) -> None:
        """Forget the open incident (tests)."""
        with self._lock:
            self._failures = 0
            self._kinds.clear()


incidents = DatabaseIncidents()


class RequestWatch:
    """What one request met in the database: its first outage error, and whether it wrote."""

    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self.wrote = False

    def note(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc

    def observe(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        """``connection.execute_wrapper``: see outage errors and successful writes."""
        try:
            result = execute(sql, params, many, context)
        except Error as exc:
            if unavailable_error(exc) is not None:
                self.note(exc)
            raise
        if not self.wrote and sql.lstrip()[:7].upper().startswith(WRITES):
            self.wrote = True
        return result


_watch: ContextVar[RequestWatch | None] = ContextVar("fundflow_database_watch", default=None)


@contextmanager
def watching_request() -> Iterator[RequestWatch]:
    """Collect one request's database failures, so that the request counts once."""
    watch = RequestWatch()
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)


def note_failure(exc: BaseException) -> None:
    """A database outage someone caught and answered for: counted once per request."""
    watch = _watch.get()
    if watch is not None:
        watch.note(exc)
    else:
        incidents.failed(exc)
