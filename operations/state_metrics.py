"""What the database knows, read when Prometheus scrapes: nothing is kept in memory.

Cases per fund and state, payment batches waiting for someone, bank exceptions open, and the
audit log's last checkpoint and verification. Five queries per scrape, whatever the size of
the data (``tests/operations/test_metrics.py`` counts them); all of them read, none writes.
Labels are fund codes (validated as loggable), state, stage and kind codes — never a
reference or a name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, DateTimeField, Exists, Max, Min, OuterRef, Q, Value
from django.db.models.expressions import Case, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from accounting.models import (
    BankException,
    BankExceptionKind,
    BatchStatus,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
)
from audit.checkpoints import last_verification
from audit.models import AuditCheckpoint
from fund.models import Fund
from fund.states import State

#: Where a payment batch waits, and for whom: the stages in the order a batch passes them.
AWAITING_APPROVAL = "awaiting_approval"  # a second treasurer approves it
APPROVED_NOT_EXPORTED = "approved_not_exported"  # a treasurer downloads its file
EXPORTED_NOT_SENT = "exported_not_sent"  # a treasurer sends the file and marks it sent
SENT_NOT_SETTLED = "sent_not_settled"  # the bank's answer (pain.002 / camt.054) is awaited
BATCH_STAGES = (AWAITING_APPROVAL, APPROVED_NOT_EXPORTED, EXPORTED_NOT_SENT, SENT_NOT_SETTLED)


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0


class StateCollector(Collector):
    """Gauges read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield self.cases()
        yield from self.batches(now)
        yield from self.bank_exceptions(now)
        yield from self.audit(now)

    def cases(self) -> Metric:
        """Applications per fund and state: one query, a zero for every state of every fund."""
        gauge = GaugeMetricFamily(
            "fundflow_applications",
            "Applications per fund code and state.",
            labels=["fund", "state"],
        )
        counts: dict[str, dict[str, int]] = {}
        rows = (
            Fund.objects.order_by()
            .values_list("code", "applications__state")
            .annotate(n=Count("applications"))
        )
        for code, state, n in rows:
            per_state = counts.setdefault(code, dict.fromkeys(State.values, 0))
            if state in per_state:
                per_state[state] += n
        for code in sorted(counts):
            for state, n in counts[code].items():
                gauge.add_metric([code, state], n)
        return gauge

    def batches(self, now: dt.datetime) -> Iterator[Metric]:
        """Payment batches waiting per stage, and how long the oldest has waited there."""
        unsettled = PaymentOrder.objects.filter(batch=OuterRef("pk"), status=OrderStatus.SCHEDULED)
        stage = Case(
            When(status=BatchStatus.DRAFT, then=Value(AWAITING_APPROVAL)),
            When(
                status=BatchStatus.APPROVED,
                exported_at__isnull=True,
                then=Value(APPROVED_NOT_EXPORTED),
            ),
            When(status=BatchStatus.APPROVED, then=Value(EXPORTED_NOT_SENT)),
            When(Q(status=BatchStatus.SENT) & Exists(unsettled), then=Value(SENT_NOT_SETTLED)),
            default=Value(""),
        )
        since = Case(
            When(status=BatchStatus.DRAFT, then="created_at"),
            When(status=BatchStatus.APPROVED, exported_at__isnull=True, then="approved_at"),
            When(status=BatchStatus.APPROVED, then="exported_at"),
            default=Coalesce("sent_at", "exported_at"),
            output_field=DateTimeField(),
        )
        rows = (
            PaymentBatch.objects.filter(
                status__in=[BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.SENT]
            )
            .annotate(stage=stage, since=since)
            .exclude(stage="")
            .order_by()
            .values_list("stage")
            .annotate(n=Count("pk"), oldest=Min("since"))
        )
        found = {row[0]: (row[1], row[2]) for row in rows}
        waiting = GaugeMetricFamily(
            "fundflow_payment_batches_waiting",
            "Payment batches waiting for someone, by stage.",
            labels=["stage"],
        )
        oldest = GaugeMetricFamily(
            "fundflow_payment_batches_oldest_waiting_seconds",
            "How long the oldest batch in each stage has waited there (0 when none waits).",
            labels=["stage"],
        )
        for name in BATCH_STAGES:
            n, since_at = found.get(name, (0, None))
            waiting.add_metric([name], n)
            oldest.add_metric([name], _age(now, since_at))
        yield waiting
        yield oldest

    def bank_exceptions(self, now: dt.datetime) -> Iterator[Metric]:
        """Money the bank moved against our records, not yet resolved by a treasurer."""
        rows = (
            BankException.objects.filter(resolution="")
            .order_by()
            .values_list("kind")
            .annotate(n=Count("pk"), oldest=Min("recorded_at"))
        )
        found = {kind: (n, oldest) for kind, n, oldest in rows}
        open_ = GaugeMetricFamily(
            "fundflow_bank_exceptions_open",
            "Bank exceptions waiting for a treasurer, by kind.",
            labels=["kind"],
        )
        oldest = GaugeMetricFamily(
            "fundflow_bank_exceptions_oldest_open_seconds",
            "How long the oldest open bank exception of each kind has waited (0 when none).",
            labels=["kind"],
        )
        for kind in BankExceptionKind.values:
            n, since_at = found.get(kind, (0, None))
            open_.add_metric([kind], n)
            oldest.add_metric([kind], _age(now, since_at))
        yield open_
        yield oldest

    def audit(self, now: dt.datetime) -> Iterator[Metric]:
        """The last checkpoint's age; the last verification's result and age (none: absent)."""
        last_checkpoint = AuditCheckpoint.objects.aggregate(at=Max("created_at"))["at"]
        if last_checkpoint is not None:
            yield GaugeMetricFamily(
                "fundflow_audit_last_checkpoint_age_seconds",
                "Seconds since the last signed audit checkpoint.",
                value=_age(now, last_checkpoint),
            )
        last_run = last_verification()
        if last_run is not None:
            ran_at, ok = last_run
            yield GaugeMetricFamily(
                "fundflow_audit_last_verification_ok",
                "1 when the last verification of the audit chain found it intact, 0 when broken.",
                value=1 if ok else 0,
            )
            yield GaugeMetricFamily(
                "fundflow_audit_last_verification_age_seconds",
                "Seconds since the audit chain was last verified.",
                value=_age(now, ran_at),
            )
