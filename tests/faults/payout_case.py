"""A case whose payout the bank has been sent, and what confirming it paid must do, once.

``confirm_paid`` books the payout voucher (6710 grants paid / 1930 bank, series C), marks the
payment order paid, closes the commitment and moves the case to ``paid``; its audit events
come last. Holding the audit lock (``tests/audit_lock.py``) stops it after the voucher and
its postings are written, before anything commits.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from accounting.models import PaymentOrder, Voucher, VoucherSeries
from api.services import issue_token
from audit.models import AuditEvent
from fund.models import Application
from fund.states import State
from tests.audit_lock import AuditLock
from tests.faults.server import Answer, WebServer
from tests.tasks.worker import wait_for


@dataclass(frozen=True)
class Effects:
    """What confirming the case paid leaves behind, counted."""

    state: str
    vouchers: int
    orders_paid: int
    paid_events: int
    confirm_events: int

    def __str__(self) -> str:
        return (
            f"case '{self.state}', {self.vouchers} payout vouchers, {self.orders_paid} orders "
            f"paid, {self.paid_events} payout.order_paid + {self.confirm_events} "
            "application.confirm_paid events"
        )


def effects(app: Application) -> Effects:
    app.refresh_from_db()
    return Effects(
        state=app.state,
        vouchers=Voucher.objects.filter(
            series=VoucherSeries.PAYOUT, text__contains=app.reference
        ).count(),
        orders_paid=PaymentOrder.objects.filter(application=app, status="paid").count(),
        paid_events=AuditEvent.objects.filter(
            action="payout.order_paid", payload__application=app.reference
        ).count(),
        confirm_events=AuditEvent.objects.filter(
            action="application.confirm_paid", object_ref=app.reference
        ).count(),
    )


NOT_PAID = Effects(State.PAYOUT_SCHEDULED, 0, 0, 0, 0)
PAID_ONCE = Effects(State.PAID, 1, 1, 1, 1)


def totals() -> tuple[int, int]:
    """(audit events, vouchers) in the whole database: committed work, not to be lost."""
    return AuditEvent.objects.count(), Voucher.objects.count()


@pytest.fixture
def payout_case(world: Any) -> Application:
    """An approved case of 1 500 kr whose payment order was sent to the bank in a batch."""
    app = world.to_approved(world.new_application("1500"))
    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    assert effects(app) == NOT_PAID
    return app


def confirm_path(app: Application) -> str:
    return reverse("api:transition", args=[app.reference, "confirm_paid"])


def nothing_committed(app: Application, before: tuple[int, int]) -> str:
    """Assert that the interrupted change left nothing and took nothing away; describe it."""
    assert totals() == before  # nothing of the change committed, nothing earlier lost
    assert effects(app) == NOT_PAID
    return (
        f"nothing committed: {effects(app)}; {before[0]} audit events and {before[1]} "
        "vouchers, as before"
    )


class BlockedRequest:
    """``POST confirm_paid`` to the web server, stopped inside its transaction.

    The test holds the audit lock; the request is sent from a thread and waits for it, its
    voucher and postings written and not committed.
    """

    def __init__(self, server: WebServer, app: Application, token: str, lock: AuditLock):
        self.server, self.app, self.token = server, app, token
        self.worker = server.worker()
        self.before = totals()
        lock.hold()
        self._pool = ThreadPoolExecutor(1)
        self.future: Future[Answer] = self._pool.submit(
            server.request, "POST", confirm_path(app), token
        )
        [self.backend] = wait_for(
            lock.waiting, what=lambda: f"the request to block:\n{server.logs()}"
        )
        self.blocked_in = lock.blocked_in(self.backend)

    @property
    def tried(self) -> str:
        return (
            f"POST {self.app.reference}/transitions/confirm_paid/ (gunicorn worker "
            f"{self.worker}, session {self.backend}) {self.blocked_in}"
        )

    def answer(self, timeout: float = 30) -> Answer:
        try:
            return self.future.result(timeout)
        finally:
            self._pool.shutdown()

    def error(self, timeout: float = 30) -> BaseException | None:
        try:
            return self.future.exception(timeout)
        finally:
            self._pool.shutdown()

    def nothing_committed(self) -> str:
        return nothing_committed(self.app, self.before)

    def retried_once(self) -> str:
        return confirm_again_once(self.server, self.app, self.token)


@pytest.fixture
def blocked_request(
    world: Any, payout_case: Application, web_server: WebServer, audit_lock: AuditLock
) -> BlockedRequest:
    """gunicorn started on the test's committed data, and the treasurer's request stopped."""
    _token, token = issue_token(world.treasurer, label="faults")
    web_server.start()
    return BlockedRequest(web_server, payout_case, token, audit_lock)


def confirm_again_once(server: WebServer, app: Application, token: str) -> str:
    """The client retries (and once more): exactly one payout. Describe what happened."""
    retry = server.request("POST", confirm_path(app), token)
    assert retry.status == 200, retry
    assert retry.body["state"] == State.PAID
    again = server.request("POST", confirm_path(app), token)
    # The step was possible in the state the case just left: a conflict, as any lost race.
    assert again.status == 409 and again.body["code"] == "conflict", again
    assert effects(app) == PAID_ONCE
    return (
        f"retry: HTTP {retry.status} '{retry.body['state']}'; once more: HTTP {again.status} "
        f"{again.body['code']}; {effects(app)}"
    )
