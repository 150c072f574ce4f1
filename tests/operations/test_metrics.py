"""Issue #18, "Health and metrics": Prometheus metrics at /metrics, for the scraper only.

Each metric is checked after the event it counts; labels come from fixed sets only, so no
person's value, reference or user name ever reaches the metrics; a scrape reads a bounded
number of queries and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from accounting.bank_exceptions import record_bank_exception
from accounting.bank_status import import_bank_file
from accounting.exports import ExportRefused
from accounting.exports.services import export_ledger_file, export_sie_file
from accounting.models import BankExceptionKind, PaymentOrder
from accounting.payouts import batches
from audit.checkpoints import make_checkpoint, record_run
from audit.exports import export_trail
from audit.models import AuditCheckpoint
from fund.states import State
from operations.metrics import scrape
from tests.accounting.bank_files import pain002
from tests.signin import sign_in
from workflows import services

TOKEN = "a-long-random-metrics-token-for-the-tests-0123456789"
OUTSIDE = "203.0.113.7"


def metrics_text(client: Client | None = None) -> str:
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly these labels (0 when there is none)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def now_value(name: str, **labels: str) -> float:
    return value(scrape().decode(), name, **labels)


# Who may scrape.


@pytest.mark.django_db
def test_an_unknown_client_gets_no_metrics():
    response = Client(REMOTE_ADDR=OUTSIDE).get("/metrics")
    assert response.status_code == 404
    assert b"fundflow_" not in response.content


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_a_wrong_token_gets_no_metrics():
    for header in (f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}", "Bearer "):
        response = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=header).get("/metrics")
        assert response.status_code == 404, header
        assert b"fundflow_" not in response.content


@pytest.mark.django_db
def test_no_token_configured_lets_no_bearer_in():
    response = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").get("/metrics")
    assert response.status_code == 404


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_the_scraper_with_the_token_gets_metrics_from_anywhere():
    client = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    assert "fundflow_applications" in response.content.decode()


@pytest.mark.django_db
def test_an_allowed_address_gets_metrics_without_a_token():
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200


@pytest.mark.django_db
@override_settings(METRICS_ALLOWED_IPS=["10.1.0.0/16"])
def test_allowed_addresses_may_be_networks():
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404


@pytest.mark.django_db
def test_a_request_through_the_proxy_needs_the_token_even_from_an_allowed_address():
    """Behind the reverse proxy every client is 127.0.0.1: the address proves nothing."""
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"):
        client = Client(REMOTE_ADDR="127.0.0.1", **{header: OUTSIDE})
        assert client.get("/metrics").status_code == 404, header


@pytest.mark.django_db
def test_metrics_answer_only_get():
    assert Client().post("/metrics").status_code == 405


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_scraper_on_the_host_is_not_redirected_to_https():
    assert Client().get("/metrics").status_code == 200
    assert Client().get("/login/").status_code == 301


# A scrape writes nothing and costs little.


@pytest.mark.django_db(transaction=True)
def test_a_scrape_writes_nothing_to_the_database(world, settings):
    """Not even the idle tail's checkpoint, which any other request would make now."""
    world.new_application("900")
    settings.AUDIT_AUTO_CHECKPOINT = True  # events since the last checkpoint: one is due
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 1
    before = AuditCheckpoint.objects.count()
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert not response.cookies
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}
    ]
    assert writes == []
    assert AuditCheckpoint.objects.count() == before
    Client().get("/login/")  # a page: the checkpoint it makes shows one was due
    assert AuditCheckpoint.objects.count() == before + 1


@pytest.mark.django_db
def test_the_scrape_reads_few_queries_however_much_data(world):
    def queries_per_scrape() -> int:
        with CaptureQueriesContext(connection) as queries:
            scrape()
        return len(queries.captured_queries)

    small = queries_per_scrape()
    for _ in range(3):
        world.send_payouts(
            world.run(
                world.to_approved(world.new_application("800")), "schedule_payout", world.treasurer
            )
        )
    world.new_application("700")
    assert queries_per_scrape() == small
    assert small <= 5


# No personal data anywhere.


@pytest.mark.django_db
def test_no_personal_data_appears_in_the_metrics(world, tmp_path):
    """A case walked through every page and step, with a person's values, leaves only codes."""
    name, personal_number, contact = "Zelmira Östergrenova", "19811218-9876", "zelmira@example.se"
    person = services.register_beneficiary(
        actor=world.ombud.user, name=name, personal_number=personal_number, contact=contact
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="1500", description="behov")],
    )
    app = world.run(world.to_approved(app), "schedule_payout", world.treasurer)
    batch = world.send_payouts(app)
    order = PaymentOrder.objects.get(application=app)
    import_bank_file(pain002(batch, [(order, ("ACSC", ""))]), actor=world.treasurer)
    export_ledger_file(tmp_path / "ledger.csv", fmt="csv", actor=world.treasurer)
    export_trail(io.StringIO(), application=app.reference)
    for user, path in (
        (world.officer, f"/applications/{app.reference}/"),
        (world.officer, f"/applications/{app.reference}/person/"),
        (world.ombud.user, f"/ombud/applications/{app.reference}/"),
        (world.treasurer, "/treasury/"),
        (world.officer, f"/worklist/?q={personal_number}"),
        (world.officer, f"/no-such-page/{name}/"),
    ):
        sign_in(Client(), user).get(path)
    text = metrics_text()
    secrets = [
        name,
        "Zelmira",
        personal_number,
        personal_number.replace("-", ""),
        contact,
        app.reference,
        batch.message_id,
        f"PO-{order.pk}",
        *[u.username for u in (world.ombud.user, world.officer, world.treasurer)],
        world.ombud.organisation.name,
        "Socialtjänsten",
    ]
    assert [s for s in secrets if s in text] == []
    assert (
        value(
            text,
            "fundflow_http_requests_total",
            method="GET",
            route="web:application",
            status="2xx",
        )
        >= 1
    )


# Each metric after the event it counts.


@pytest.mark.django_db
def test_a_case_moved_moves_its_states_gauge(world):
    app = world.new_application("1200")
    labels = {"fund": world.fund.code}
    assert now_value("fundflow_applications", state=State.DRAFT, **labels) == 1
    assert now_value("fundflow_applications", state=State.SUBMITTED, **labels) == 0
    world.run(app, "submit", world.ombud.user)
    assert now_value("fundflow_applications", state=State.DRAFT, **labels) == 0
    assert now_value("fundflow_applications", state=State.SUBMITTED, **labels) == 1
    assert now_value("fundflow_applications", state=State.PAID, **labels) == 0


@pytest.mark.django_db
def test_requests_are_counted_by_route_name_and_status_class_never_by_path(world):
    app = world.new_application("500")
    client = sign_in(Client(), world.officer)
    labels = {"method": "GET", "route": "web:application", "status": "2xx"}
    before = now_value("fundflow_http_requests_total", **labels)
    seen_before = now_value(
        "fundflow_http_request_duration_seconds_count", method="GET", route="web:application"
    )
    assert client.get(f"/applications/{app.reference}/").status_code == 200
    assert now_value("fundflow_http_requests_total", **labels) == before + 1
    assert (
        now_value(
            "fundflow_http_request_duration_seconds_count", method="GET", route="web:application"
        )
        == seen_before + 1
    )
    missing = {"method": "GET", "route": "unresolved", "status": "4xx"}
    before = now_value("fundflow_http_requests_total", **missing)
    client.get("/no-such-page/A-1/")
    assert now_value("fundflow_http_requests_total", **missing) == before + 1
    assert app.reference not in scrape().decode()


@pytest.mark.django_db
def test_batches_waiting_are_counted_per_stage_until_the_bank_answers(world):
    app = world.run(
        world.to_approved(world.new_application("900")), "schedule_payout", world.treasurer
    )

    def waiting() -> dict[str, float]:
        text = scrape().decode()
        stages = (
            "awaiting_approval",
            "approved_not_exported",
            "exported_not_sent",
            "sent_not_settled",
        )
        return {
            s: value(text, "fundflow_payment_batches_waiting", stage=s)
            for s in stages
            if value(text, "fundflow_payment_batches_waiting", stage=s)
        }

    assert waiting() == {}
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    assert waiting() == {"awaiting_approval": 1}
    batches.approve_batch(batch, actor=world.treasurer2)
    assert waiting() == {"approved_not_exported": 1}
    batches.export_batch(batch, actor=world.treasurer)
    assert waiting() == {"exported_not_sent": 1}
    batches.mark_sent(batch, actor=world.treasurer)
    assert waiting() == {"sent_not_settled": 1}
    assert (
        now_value("fundflow_payment_batches_oldest_waiting_seconds", stage="sent_not_settled") >= 0
    )
    order = PaymentOrder.objects.get(application=app)
    import_bank_file(pain002(batch, [(order, ("ACSC", ""))]), actor=world.treasurer)
    assert waiting() == {}


@pytest.mark.django_db
def test_an_old_batch_shows_its_waiting_time(world):
    app = world.run(
        world.to_approved(world.new_application("900")), "schedule_payout", world.treasurer
    )
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    type(batch).objects.filter(pk=batch.pk).update(
        created_at=batch.created_at - dt.timedelta(days=2)
    )
    age = now_value("fundflow_payment_batches_oldest_waiting_seconds", stage="awaiting_approval")
    assert 2 * 86400 <= age < 2 * 86400 + 600


@pytest.mark.django_db
def test_bank_answers_are_counted_by_outcome(world):
    paid_app, failed_app = (
        world.run(world.to_approved(world.new_application(a)), "schedule_payout", world.treasurer)
        for a in ("600", "700")
    )
    batch = world.send_payouts(paid_app, failed_app)
    paid, failed = (PaymentOrder.objects.get(application=a) for a in (paid_app, failed_app))
    before = {
        o: now_value("fundflow_bank_answer_payments_total", outcome=o)
        for o in ("paid", "rejected", "not_booked")
    }
    report = pain002(batch, [(paid, ("ACSC", "")), (failed, ("RJCT", "AC04"))])
    import_bank_file(report, actor=world.treasurer)
    assert now_value("fundflow_bank_answer_payments_total", outcome="paid") == before["paid"] + 1
    assert now_value("fundflow_bank_answer_payments_total", outcome="rejected") == (
        before["rejected"] + 1
    )
    assert (
        now_value("fundflow_bank_answer_payments_total", outcome="not_booked")
        == (before["not_booked"])
    )


@pytest.mark.django_db
def test_an_open_bank_exception_is_counted_until_a_treasurer_resolves_it(world):
    app = world.to_paid(world.new_application("650"))
    order = PaymentOrder.objects.get(application=app)
    kind = BankExceptionKind.RETURNED_AFTER_PAYMENT
    assert now_value("fundflow_bank_exceptions_open", kind=kind) == 0
    record_bank_exception(
        order,
        actor=world.treasurer,
        kind=kind,
        amount=Decimal("650"),
        booking_date=None,
        source="test",
    )
    assert now_value("fundflow_bank_exceptions_open", kind=kind) == 1
    assert (
        now_value("fundflow_bank_exceptions_open", kind=BankExceptionKind.PAID_AFTER_FAILURE) == 0
    )


@pytest.mark.django_db
def test_exports_are_timed_by_kind_and_a_failure_is_counted(world, tmp_path):
    def done(kind: str, outcome: str) -> float:
        return now_value("fundflow_export_duration_seconds_count", kind=kind, outcome=outcome)

    ok_before = done("ledger_csv", "ok")
    export_ledger_file(tmp_path / "ledger.csv", fmt="csv", actor=world.treasurer)
    assert done("ledger_csv", "ok") == ok_before + 1

    failures_before = now_value("fundflow_export_failures_total", kind="ledger_csv")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OSError):
        export_ledger_file(tmp_path / "a-file" / "ledger.csv", fmt="csv", actor=world.treasurer)
    assert now_value("fundflow_export_failures_total", kind="ledger_csv") == failures_before + 1
    assert done("ledger_csv", "failed") >= 1

    refused_before = done("sie4", "refused")
    sie_failures = now_value("fundflow_export_failures_total", kind="sie4")
    with pytest.raises(ExportRefused):
        export_sie_file(tmp_path / "x.se", year=1999, actor=world.treasurer)
    assert done("sie4", "refused") == refused_before + 1
    assert now_value("fundflow_export_failures_total", kind="sie4") == sie_failures

    trail_before = done("audit_trail", "ok")
    export_trail(io.StringIO())
    assert done("audit_trail", "ok") == trail_before + 1


@pytest.mark.django_db
def test_a_failed_task_counts_as_a_failure_of_its_name():
    """Run as a worker runs it (the exception stays in the task's result)."""
    from accounting.tasks import run_export

    name = "accounting.run_export"
    failures = now_value("fundflow_task_failures_total", task=name)
    runs = now_value("fundflow_task_duration_seconds_count", task=name)
    result = run_export.apply(args=["00000000-0000-0000-0000-000000000000"], throw=False)
    assert result.failed()
    assert now_value("fundflow_task_failures_total", task=name) == failures + 1
    assert now_value("fundflow_task_duration_seconds_count", task=name) == runs + 1


@pytest.mark.django_db
def test_a_task_that_succeeds_is_timed_and_not_a_failure(world):
    from audit.tasks import create_checkpoint

    name = "audit.create_checkpoint"
    failures = now_value("fundflow_task_failures_total", task=name)
    runs = now_value("fundflow_task_duration_seconds_count", task=name)
    create_checkpoint.delay()
    assert now_value("fundflow_task_duration_seconds_count", task=name) == runs + 1
    assert now_value("fundflow_task_failures_total", task=name) == failures


@pytest.mark.django_db
def test_the_last_checkpoint_and_verification_are_shown_with_their_age(world):
    text = scrape().decode()
    assert "fundflow_audit_last_checkpoint_age_seconds" not in text
    assert "fundflow_audit_last_verification_ok" not in text
    assert make_checkpoint() is not None
    assert 0 <= now_value("fundflow_audit_last_checkpoint_age_seconds") < 600
    record_run("verify", True, "ok")
    assert now_value("fundflow_audit_last_verification_ok") == 1
    assert 0 <= now_value("fundflow_audit_last_verification_age_seconds") < 600
    record_run("verify", False, "broken at 3", 3)
    assert now_value("fundflow_audit_last_verification_ok") == 0
    record_run("checkpoint", True, "a checkpoint run is no verification")
    assert now_value("fundflow_audit_last_verification_ok") == 0
