"""Many workers race on the same payment orders and the same fund (PostgreSQL, real commits).

Each worker is a thread with its own database connection. Whatever the interleaving: every
order ends in exactly one batch, is paid exactly once with one voucher, nothing is lost, and
a fund never commits more than it has.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from accounting import commitments, ledger
from accounting.models import (
    BatchStatus,
    Commitment,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
    Posting,
    Voucher,
)
from accounting.payouts import batches, settlement
from core.exceptions import ConflictError, PermissionDenied, WorkflowError
from fund.models import Application
from fund.states import State
from tests.accounting.conftest import new_fund, voucher_sums
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.evidence("ledger"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WORKERS = 6


def _on_batch(action: Callable[..., Any], batch: Any, treasurers: list[Any], i: int) -> Any:
    return action(batch, actor=treasurers[i])


def race(
    work: Callable[[int], Any], workers: int = WORKERS
) -> tuple[list[Any], list[BaseException]]:
    """Run ``work(i)`` in threads released together; domain refusals count as results."""
    barrier = threading.Barrier(workers)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            with translation.override("en"):  # threads start in the default language
                outcome = work(i)
        except WorkflowError as exc:
            outcome = exc
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_racing_treasurers_batch_approve_and_confirm_each_order_once(world, ledger_purge):
    treasurers = [world.treasurer, world.treasurer2] + [
        UserFactory(roles=["treasurer"]) for _ in range(WORKERS - 2)
    ]
    apps = []
    for amount in ("100", "200.50", "300", "400", "500", "600.25", "700", "800"):
        app = world.to_approved(world.new_application(amount))
        apps.append(world.run(app, "schedule_payout", world.treasurer))
    order_ids = set(PaymentOrder.objects.values_list("pk", flat=True))
    total = sum((o.amount.amount for o in PaymentOrder.objects.all()), Decimal(0))

    created, errors = race(lambda i: batches.create_batch(actor=treasurers[i]))
    assert errors == []
    made = [b for b in created if isinstance(b, PaymentBatch)]
    assert len(made) >= 1
    batched = list(PaymentOrder.objects.values_list("pk", "batch_id"))
    assert {pk for pk, _b in batched} == order_ids
    assert all(batch_id is not None for _pk, batch_id in batched)

    for batch in made:
        results, errors = race(partial(_on_batch, batches.approve_batch, batch, treasurers))
        # Refused: the batch's creator, and world.treasurer (registered the payee and
        # scheduled every order); they may be the same person.
        refused = {batch.created_by_id, world.treasurer.pk}
        assert sum(isinstance(r, PermissionDenied) for r in results) == len(refused)
        # One of the others approves; the rest lost the race (409).
        assert sum(isinstance(r, PaymentBatch) for r in results) == 1
        assert sum(isinstance(r, ConflictError) for r in results) == WORKERS - len(refused) - 1
        assert errors == []
        batch.refresh_from_db()
        assert batch.status == BatchStatus.APPROVED
        assert batch.approved_by_id != batch.created_by_id
        _, errors = race(partial(_on_batch, batches.export_batch, batch, treasurers))
        assert errors == []
        _, errors = race(partial(_on_batch, batches.mark_sent, batch, treasurers))
        assert errors == []

    def confirm(i: int) -> int:
        return sum(settlement.confirm_batch_paid(b, actor=treasurers[i]) for b in made)

    paid_counts, errors = race(confirm)
    assert errors == []
    assert sum(paid_counts) == len(order_ids)
    assert set(PaymentOrder.objects.values_list("status", flat=True)) == {OrderStatus.PAID}
    assert Voucher.objects.filter(series="C").count() == len(order_ids)
    assert (
        sum((p.amount.amount for p in Posting.objects.filter(account__number="6710")), Decimal(0))
        == total
    )
    assert set(
        Application.objects.filter(pk__in=[a.pk for a in apps]).values_list("state", flat=True)
    ) == {State.PAID}
    assert all(v == 0 for v in voucher_sums().values())
    numbers = sorted(Voucher.objects.filter(series="C").values_list("number", flat=True))
    assert numbers == list(range(1, len(order_ids) + 1))


def test_racing_decisions_never_commit_more_than_the_fund_has(world, ledger_purge):
    fund = new_fund(world, "race")
    ledger.record_income(fund, "1000", kind="donation", actor=world.treasurer, reference="RACE-1")
    apps = [world.to_decision(world.new_application("300", fund=fund)) for _ in range(WORKERS)]
    deciders = [world.decider, world.decider2] * (WORKERS // 2)

    results, errors = race(lambda i: world.run(apps[i], "approve", deciders[i]))
    assert errors == []
    approved = [r for r in results if isinstance(r, Application)]
    refused = [r for r in results if isinstance(r, WorkflowError)]
    assert len(approved) == 3 and len(refused) == WORKERS - 3
    assert all("available" in str(r) for r in refused)
    assert Commitment.objects.filter(fund=fund, status="open").count() == 3
    assert commitments.available(fund).amount == Decimal("100.00")
