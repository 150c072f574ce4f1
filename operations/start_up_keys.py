"""When a server process checks its keys, so that a database outage is no reason to stay down.

gunicorn replaces its workers (``max_requests``) and systemd restarts what stops: a worker
that refused to boot because the database did not answer for a moment halted the gunicorn
master for good, and the site stayed down after the database was back. So only a key that is
actually missing or wrong refuses to start (:class:`~operations.key_canary.KeysNotUsable`).
When the database does not answer, the process starts, logs one WARNING and checks the keys
as soon as it answers again:

- the web process (``config/wsgi.py``, ``runserver``) at the first request that reaches it
  (``config.start_up_keys.StartUpKeyCheckMiddleware``); until then every request gets the
  503 of a lost database. Keys found wrong then are never served: one CRITICAL line with
  the refusal, and 503 to every request until the process is restarted with the right keys
  (the start then refuses with the message, as always);
- the Celery worker (``config/celery.py``) waits before it takes any task, trying again
  every few seconds, then refuses (exits non-zero) on wrong keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import connection

from operations.key_canary import KeysNotChecked, KeysNotUsable, check_keys_at_start

logger = logging.getLogger("fundflow.operations")

#: How often a waiting Celery worker asks the database again.
WORKER_RETRY_SECONDS = 5.0

DEFERRED = (
    "The database did not answer at start (%s), so the keys were not checked yet: they are "
    "checked %s once it answers."
)


def _close_failed_connection() -> None:
    """A connection that failed (a SQLite file opened read-only) is opened afresh next time."""
    if not connection.in_atomic_block:
        connection.close()


class StartUpKeyCheck:
    """This web process's key check: done, pending (the database did not answer) or refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = False
        self._refusal: str | None = None

    @property
    def done(self) -> bool:
        """Checked, and the keys fit: nothing left to do on a request (no lock, no query)."""
        return not self._pending and self._refusal is None

    def at_start(self) -> None:
        """Check now: :class:`KeysNotUsable` on a missing or wrong key; a database that does
        not answer defers the check to the first request that reaches it."""
        try:
            check_keys_at_start()
        except KeysNotChecked as outage:
            _close_failed_connection()
            self._pending = True
            logger.warning(DEFERRED, outage, "at the first request")

    def before_serving(self) -> str | None:
        """The refusal when the keys do not fit, else None (checked now if still pending).

        Raises :class:`KeysNotChecked` while the database still does not answer.
        """
        if not self._pending:
            return self._refusal
        with self._lock:
            if self._pending:
                try:
                    check_keys_at_start()
                except KeysNotChecked:
                    _close_failed_connection()
                    raise
                except KeysNotUsable as refused:
                    self._refusal = str(refused)
                    logger.critical(
                        "%s\nThis process answers 503 to every request until it is restarted "
                        "with the right keys.",
                        refused,
                    )
                else:
                    logger.info("The database answers again: the keys were checked and fit.")
                self._pending = False
        return self._refusal

    def reset(self) -> None:
        """Back to 'done' (tests)."""
        with self._lock:
            self._pending = False
            self._refusal = None


#: The web process's check (one per process: gunicorn workers are processes).
start_up_check = StartUpKeyCheck()


def wait_for_the_keys_check(
    *,
    retry_every: float = WORKER_RETRY_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """For a worker: return once the keys are checked and fit, waiting while the database
    does not answer (one WARNING); :class:`KeysNotUsable` when they do not fit.

    Waiting rather than exiting: systemd's ``Restart=always`` gives up on a unit that
    exits five times within ten seconds, which would leave the worker down for good after a
    short outage; a task run meanwhile would run with keys nobody checked.
    """
    waited = False
    while True:
        try:
            check_keys_at_start()
        except KeysNotChecked as outage:
            _close_failed_connection()
            if not waited:
                when = f"before the first task (asking every {retry_every:g} s)"
                logger.warning(DEFERRED, outage, when)
                waited = True
            sleep(retry_every)
            continue
        if waited:
            logger.info("The database answers again: the keys were checked and fit.")
        return
