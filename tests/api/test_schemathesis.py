"""Property-based tests from the OpenAPI document (schemathesis), through the WSGI app.

Every operation gets up to 20 generated requests by a role that may use it (an officer; the
books, payouts and exports a treasurer; the audit log an auditor), on real references, so the
requests reach the services: no answer may be a 500, and every answer must match the
documented status codes, content type and body schema.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounting.models import ExportJob, PayoutFileJob
from accounting.payouts import batches
from api.services import issue_token
from audit.models import AuditEvent
from reminders.models import Reminder

# The application as config/wsgi.py builds it, without its start-up key check (which would
# query the database at import, before any test may).
application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
pytestmark = pytest.mark.evidence("bad_input")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _connection_kept_across_requests() -> Iterator[None]:
    """As Django's test client does: a WSGI request must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def officer_world(world, _connection_kept_across_requests) -> dict[str, Any]:
    """Tokens per role and real references: a case in every early state, a batch, jobs."""
    app = world.to_decision(world.new_application("1500", "700"))
    world.new_application("900")
    paid = world.to_approved(world.new_application("400"))
    world.run(paid, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[paid])
    reminder = Reminder.objects.create(
        application=app,
        kind="awaiting_ombud",
        recipient=world.officer,
        waiting_since=app.created_at,
        days=20,
        created_at=app.created_at,
    )
    payout_job = PayoutFileJob.objects.create(batch=batch, requested_by=world.treasurer)
    export_job = ExportJob.objects.create(kind="ledger_csv", created_by=world.treasurer)
    event = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()

    def headers(user: Any) -> dict[str, str]:
        _token, plain = issue_token(user, label="schemathesis")
        return {"Authorization": f"Token {plain}", "Accept-Language": "en"}

    return {
        # Each operation is called by a role that may use it, so the generated requests reach
        # the services (the books and payouts as a treasurer, the audit log as an auditor).
        "headers": {
            "officer": headers(world.officer),
            "treasurer": headers(world.treasurer),
            "auditor": headers(world.auditor),
        },
        "path": {
            "reference": app.reference,
            "message_id": batch.message_id,
            "id": reminder.pk,
            "sequence": event,
        },
        "jobs": {"/api/v1/payout-file-jobs/": payout_job.pk, "/api/v1/exports/": export_job.pk},
    }


#: Which role calls the operations under each path (every other path: the officer).
ROLE_BY_PATH = {
    "/api/v1/books/": "treasurer",
    "/api/v1/payment-batches/": "treasurer",
    "/api/v1/payout-file-jobs/": "treasurer",
    "/api/v1/bank-files/": "treasurer",
    "/api/v1/exports/": "treasurer",
    "/api/v1/audit/": "auditor",
}


def role_for(path: str) -> str:
    return next((role for start, role in ROLE_BY_PATH.items() if path.startswith(start)), "officer")


@pytest.fixture
def answers(evidence) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The status codes of every generated request, as one evidence row per operation."""
    seen: dict[str, Any] = {"operation": "", "statuses": Counter()}
    yield seen
    statuses = seen["statuses"]
    counts = ", ".join(f"{code} x{n}" for code, n in sorted(statuses.items()))
    evidence.row(
        tried=f"schemathesis: {seen['operation']}, generated from the OpenAPI schema",
        outcome=f"{sum(statuses.values())} requests ({counts}); no server error, every answer "
        "matched the documented status, content type and schema",
    )


@schema.parametrize()
@hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_match_the_schema(case, officer_world, answers):  # type: ignore[no-untyped-def]
    """Generated API requests: no server error, every answer as the schema documents"""
    path = case.operation.path
    for name, value in officer_world["path"].items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    for start, job in officer_world["jobs"].items():
        if case.path_parameters and "job_id" in case.path_parameters and path.startswith(start):
            case.path_parameters["job_id"] = str(job)
    headers = officer_world["headers"][role_for(path)]
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    answers["operation"] = case.operation.label
    answers["statuses"][response.status_code] += 1
