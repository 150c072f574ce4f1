"""A process killed, or its database connection dropped, in the middle of a transaction.

The change is a payout being booked (``confirm_paid``), stopped inside its transaction with
its voucher and postings written and its audit event waiting for the append lock the test
holds (``tests/audit_lock.py``). Then:

- its gunicorn worker is SIGKILLed: the client loses the connection, PostgreSQL rolls the
  transaction back, the master boots a new worker, and the retry books the payout once;
- its session is ended with ``pg_terminate_backend``: the client gets a 503 with a message
  at once, the same worker goes on serving on a new connection, the retry books it once;
- the same in-process: ``services.transition`` raises ``OperationalError``, nothing remains.
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

import pytest
from django.db import OperationalError, connection

from core.exceptions import ConflictError
from tests.audit_lock import audit_lock
from tests.faults.payout_case import (
    NOT_PAID,
    PAID_ONCE,
    blocked_request,
    effects,
    nothing_committed,
    payout_case,
    totals,
)
from tests.faults.server import web_server
from tests.faults.support import consistent
from tests.tasks.worker import wait_for
from workflows import services, step_inputs

__all__ = ["audit_lock", "blocked_request", "payout_case", "web_server"]  # fixtures

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.evidence("fault"),
]


def test_kill_9_the_web_process_while_it_books_a_payout(
    blocked_request: Any, web_server: Any, audit_lock: Any, evidence: Any
) -> None:
    """kill -9 the web process while a request books a payout"""
    killed = web_server.kill_worker()
    error = blocked_request.error()
    assert isinstance(error, ConnectionError | http.client.HTTPException), error
    audit_lock.release()
    backend = blocked_request.backend
    wait_for(lambda: not audit_lock.alive(backend), what="the orphaned session to end")
    rolled_back = blocked_request.nothing_committed()

    replacement = web_server.worker(other_than=killed)
    evidence.row(
        tried=f"SIGKILL the gunicorn worker while {blocked_request.tried}",
        outcome=(
            f"client: {type(error).__name__}; session {backend} ended; {rolled_back}; "
            f"gunicorn booted worker {replacement}; {blocked_request.retried_once()}; "
            + consistent()
        ),
    )


def test_drop_the_database_connection_while_a_web_request_books_a_payout(
    blocked_request: Any, web_server: Any, audit_lock: Any, evidence: Any
) -> None:
    """Drop the database connection while a web request books a payout"""
    started = time.monotonic()
    assert audit_lock.terminate(blocked_request.backend)
    answer = blocked_request.answer()
    seconds = time.monotonic() - started
    assert answer.status == 503, answer
    assert answer.body["code"] == "database_unavailable"
    rolled_back = blocked_request.nothing_committed()
    reference = blocked_request.app.reference
    detail = web_server.request("GET", f"/api/v1/applications/{reference}/", blocked_request.token)
    assert detail.status == 200 and detail.body["state"] == NOT_PAID.state
    assert web_server.worker() == blocked_request.worker  # the same process, a new connection

    audit_lock.release()
    evidence.row(
        tried=f"pg_terminate_backend while {blocked_request.tried}",
        outcome=(
            f"client after {seconds:.2f} s: HTTP {answer.status} {answer.body['code']}: "
            f"“{answer.body['detail']}”; {rolled_back}; next GET (lock still held): HTTP "
            f"{detail.status} from the same worker; {blocked_request.retried_once()}; "
            + consistent()
        ),
    )


def test_drop_the_database_connection_of_a_service_mid_transaction(
    world: Any, payout_case: Any, audit_lock: Any, evidence: Any
) -> None:
    """Drop the database connection while services.transition() books a payout (in-process)"""
    before = totals()
    raised: list[BaseException] = []

    def confirm() -> None:
        try:
            services.transition(payout_case, actor=world.treasurer, step=step_inputs.ConfirmPaid())
        except BaseException as exc:
            raised.append(exc)
        finally:
            connection.close()

    audit_lock.hold()
    thread = threading.Thread(target=confirm)
    thread.start()
    [backend] = wait_for(audit_lock.waiting, what="the transition to block")
    blocked_in = audit_lock.blocked_in(backend)
    assert audit_lock.terminate(backend)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [type(e) for e in raised] == [OperationalError]
    rolled_back = nothing_committed(payout_case, before)
    audit_lock.release()

    paid = services.transition(payout_case, actor=world.treasurer, step=step_inputs.ConfirmPaid())
    with pytest.raises(ConflictError):
        services.transition(paid, actor=world.treasurer, step=step_inputs.ConfirmPaid())
    assert effects(payout_case) == PAID_ONCE
    evidence.row(
        tried=f"pg_terminate_backend({backend}) while a thread's services.transition("
        f"{payout_case.reference}, 'confirm_paid') is {blocked_in}",
        outcome=(
            f"{type(raised[0]).__name__}: {str(raised[0]).strip().splitlines()[0]}; "
            f"{rolled_back}; retry paid, once more refused "
            f"(ConflictError); {effects(payout_case)}; {consistent()}"
        ),
    )
