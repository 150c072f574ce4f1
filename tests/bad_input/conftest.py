"""Shared pieces of the bad-input evidence: what the database holds, and a tally of outcomes.

Every bad-input check has the same shape: try something, and either it is accepted (a valid
result) or it is refused with the domain's own error and a message for people, and then
nothing in the database changed. ``attempt`` runs one try that way and counts it in a
``Tally``, whose summary becomes the test's evidence row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.db import connection, transaction

from accounting.models import Commitment, Payee, PaymentOrder, Posting, Voucher
from audit.models import AuditEvent
from cofinancing.models import TimeSheetEntry
from core.exceptions import WorkflowError
from fund.models import Application, Beneficiary, NeedItem
from tests.api.conftest import _fresh_throttle_counts, as_role, client_for
from tests.evidence import EvidenceRecorder
from workflows.models import (
    Attestation,
    CompletionRequest,
    Decision,
    DecisionSignature,
    StatutoryAssessment,
)

T = TypeVar("T")

# The API's clients (a real token per role) and its fresh rate-limit counts, as in tests/api.
__all__ = ["_fresh_throttle_counts", "as_role", "client_for"]

COUNTED = (
    Application,
    NeedItem,
    Beneficiary,
    Attestation,
    StatutoryAssessment,
    CompletionRequest,
    Decision,
    DecisionSignature,
    Commitment,
    PaymentOrder,
    Payee,
    Voucher,
    Posting,
    TimeSheetEntry,
    AuditEvent,
)


def snapshot() -> dict[str, Any]:
    """Row counts of everything a bad input could touch, and every case's state."""
    # Table names from the models, not from input: one query for all the counts.
    tables = [connection.ops.quote_name(m._meta.db_table) for m in COUNTED]
    counts_sql = ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts_sql}")
        row = cursor.fetchone()
    counts: dict[str, Any] = {m.__name__: n for m, n in zip(COUNTED, row, strict=True)}
    counts["states"] = sorted(Application.objects.values_list("pk", "state"))
    counts["orders"] = sorted(PaymentOrder.objects.values_list("pk", "status"))
    return counts


class Tally:
    """How many tries were accepted, and how many refused with which error."""

    def __init__(self) -> None:
        self.tried = ""  # what was tried, when the test says it better than its decorator
        self.accepted = 0
        self.refused: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    @property
    def total(self) -> int:
        return self.accepted + sum(self.refused.values())

    def refuse(self, error: WorkflowError) -> None:
        self.count_refusal(type(error).__name__, error.messages[0])

    def count_refusal(self, kind: str, message: str) -> None:
        self.refused[kind] += 1
        self.examples.setdefault(kind, message)

    def summary(self) -> str:
        kinds = ", ".join(f"{name} x{n}" for name, n in sorted(self.refused.items()))
        examples = "; ".join(
            f"{name}: “{text[:90]}”" for name, text in sorted(self.examples.items())
        )
        return (
            f"{self.total} examples: {self.accepted} accepted, {sum(self.refused.values())} "
            f"refused ({kinds or 'none'}); no other exception; nothing changed on refusal"
            + (f". E.g. {examples}" if examples else "")
        )


def attempt(tally: Tally, call: Callable[[], T]) -> T | None:
    """Run ``call`` in a savepoint that is rolled back; check what a refusal leaves behind.

    Any exception other than a ``WorkflowError`` (the services' refusals) fails the test.
    """
    before = snapshot()
    with transaction.atomic():
        try:
            result = call()
        except WorkflowError as error:
            assert error.messages, "a refusal names its problem"
            assert all(message.strip() for message in error.messages)
            assert snapshot() == before, "a refusal changed the database"
            tally.refuse(error)
            transaction.set_rollback(True)
            return None
        tally.accepted += 1
        transaction.set_rollback(True)  # each example starts from the same world
        return result


@pytest.fixture
def tally(evidence: EvidenceRecorder, request: pytest.FixtureRequest) -> Iterator[Tally]:
    """A tally over all of a property's examples, recorded as one evidence row at the end."""
    counter = Tally()
    yield counter
    tried = counter.tried or getattr(request.function, "tried", request.function.__name__)
    evidence.row(tried=tried, outcome=counter.summary())


def tried(text: str) -> Callable[[T], T]:
    """What a property tries, in words for the evidence table."""

    def mark(function: T) -> T:
        function.tried = text  # type: ignore[attr-defined]
        return function

    return mark
