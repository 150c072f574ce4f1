"""Issue #20: a payout is finished through the API alone — the file job, the pain.001
download, sent / cancel / void, the batch's orders, and the bank's answer uploaded."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from lxml import etree

from accounting import pain001
from accounting.models import (
    BatchStatus,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
    Voucher,
)
from accounting.payouts import batches
from audit.models import AuditEvent
from fund.states import State
from tests.accounting.bank_files import camt054, pain002

pytestmark = pytest.mark.django_db

XML = "application/xml"


def _approved_batch(world: Any, *amounts: str) -> tuple[Any, PaymentBatch]:
    return world.approved_batch(*amounts)  # type: ignore[no-any-return]


def _exported_batch(world: Any, *amounts: str) -> tuple[Any, PaymentBatch]:
    return world.exported_batch(*amounts)  # type: ignore[no-any-return]


def _upload(client: Any, content: bytes) -> Any:
    return client.post("/api/v1/bank-files/", data=content, content_type=XML)


def test_the_file_job_goes_from_queued_to_done_and_its_digest_is_the_downloads(
    world, as_role, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PAYOUT_FILES_DIR = tmp_path
    app, batch = _approved_batch(world, "1200")
    treasurer = as_role("treasurer")

    with django_capture_on_commit_callbacks(execute=True):
        started = treasurer.post(f"/api/v1/payment-batches/{batch.message_id}/file/")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert body["status"] == "queued"
    assert body["message_id"] == batch.message_id
    assert body["task_id"]

    job = treasurer.get(f"/api/v1/payout-file-jobs/{body['job']}/").json()
    assert job["status"] == "done"
    assert job["message_id"] == batch.message_id
    assert job["error_message"] == ""
    assert job["finished_at"]

    download = treasurer.get(f"/api/v1/payment-batches/{batch.message_id}/file/")
    assert download.status_code == 200
    assert download["Content-Type"] == XML
    assert download["Content-Disposition"] == f'attachment; filename="{batch.message_id}.xml"'
    assert download["X-Message-Id"] == batch.message_id
    content = download.content
    assert job["sha256"] == download["X-Content-SHA256"] == hashlib.sha256(content).hexdigest()
    assert pain001.schema().validate(etree.fromstring(content))
    assert app.reference.encode() in content
    assert content == (tmp_path / f"{batch.message_id}.xml").read_bytes()


def test_a_second_file_request_while_one_is_queued_returns_the_same_job(
    world, as_role, django_capture_on_commit_callbacks
):
    _app, batch = _approved_batch(world, "800")
    treasurer = as_role("treasurer")

    with django_capture_on_commit_callbacks(execute=False):
        first = treasurer.post(f"/api/v1/payment-batches/{batch.message_id}/file/").json()
        second = treasurer.post(f"/api/v1/payment-batches/{batch.message_id}/file/").json()

    from accounting.models import PayoutFileJob

    assert first["job"] == second["job"]
    assert PayoutFileJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="payout.file_requested").count() == 1


def test_a_refused_export_ends_the_job_failed_with_the_message_not_a_retry(
    world, as_role, django_capture_on_commit_callbacks
):
    _app, batch = _approved_batch(world, "800")
    treasurer = as_role("treasurer")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job_id = treasurer.post(f"/api/v1/payment-batches/{batch.message_id}/file/").json()["job"]
    batches.cancel_batch(batch, actor=world.treasurer)  # before the worker takes the job

    for callback in queued:
        callback()

    job = treasurer.get(f"/api/v1/payout-file-jobs/{job_id}/").json()
    assert job["status"] == "failed"
    assert "second treasurer approved it" in job["error_message"]
    assert PaymentBatch.objects.get().exported_at is None


def test_the_file_is_not_downloaded_before_it_was_exported(world, as_role):
    _app, batch = _approved_batch(world, "800")

    response = as_role("treasurer").get(f"/api/v1/payment-batches/{batch.message_id}/file/")

    assert response.status_code == 409
    assert response.json()["code"] == "file_not_ready"
    assert PaymentBatch.objects.get().exported_at is None  # a GET never makes the first export


def test_only_treasurers_download_the_file_it_holds_account_numbers(world, as_role):
    _app, batch = _exported_batch(world, "800")

    response = as_role("auditor").get(f"/api/v1/payment-batches/{batch.message_id}/file/")

    assert response.status_code == 403


def test_mark_sent_through_the_api(world, as_role):
    _app, batch = _exported_batch(world, "800")

    response = as_role("treasurer").post(f"/api/v1/payment-batches/{batch.message_id}/sent/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "sent"
    assert response.json()["sent_at"]


def test_cancel_of_an_unexported_batch_frees_its_orders(world, as_role):
    app, batch = _approved_batch(world, "800", "200")

    response = as_role("treasurer").post(f"/api/v1/payment-batches/{batch.message_id}/cancel/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert not PaymentOrder.objects.filter(application=app, batch__isnull=False).exists()


def test_cancel_of_an_exported_batch_is_refused_with_the_void_hint(world, as_role):
    _app, batch = _exported_batch(world, "800")

    response = as_role("treasurer").post(f"/api/v1/payment-batches/{batch.message_id}/cancel/")

    assert response.status_code == 400
    assert "declares the file void" in response.json()["detail"]
    assert PaymentBatch.objects.get().status == BatchStatus.APPROVED


def test_void_needs_another_treasurer_than_the_exporter(world, as_role):
    _app, batch = _exported_batch(world, "800")
    path = f"/api/v1/payment-batches/{batch.message_id}/void/"

    refused = as_role("treasurer").post(path)
    voided = as_role("treasurer2").post(path)

    assert refused.status_code == 403
    assert voided.status_code == 200, voided.json()
    assert voided.json()["status"] == "voided"


def test_a_batch_shows_its_count_and_total_as_money_and_lists_its_orders_by_page(world, as_role):
    app, batch = _approved_batch(world, "700", "300", "250")
    auditor = as_role("auditor")

    shown = auditor.get(f"/api/v1/payment-batches/{batch.message_id}/").json()
    orders = auditor.get(f"/api/v1/payment-batches/{batch.message_id}/orders/?page_size=2").json()

    assert "orders" not in shown
    assert shown["order_count"] == 3
    assert shown["total"] == {"amount": "1250.00", "currency": "SEK"}
    assert orders["count"] == 3 and orders["next"]
    first = orders["results"][0]
    assert first["application"] == app.reference
    assert first["order"].startswith("PO-")
    assert first["amount"] == {"amount": "700.00", "currency": "SEK"}


def test_a_camt054_upload_books_the_batch_and_each_entry_says_booked(world, as_role):
    app, batch = _exported_batch(world, "700", "300")
    orders = list(PaymentOrder.objects.filter(batch=batch).order_by("pk"))
    content = camt054([(order, "2026-11-24", "") for order in orders])

    response = _upload(as_role("treasurer"), content)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["kind"] == "camt.054"
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert (body["paid"], body["failed"], body["pending"]) == (2, 0, 0)
    assert [(e["order"], e["result"]) for e in body["entries"]] == [
        (f"PO-{o.pk}", "booked") for o in orders
    ]
    app.refresh_from_db()
    assert app.state == State.PAID
    assert PaymentBatch.objects.get().status == BatchStatus.SENT  # the bank had the file


def test_a_pain002_rejection_says_refused_with_its_code(world, as_role):
    _app, batch = _exported_batch(world, "700", "300")
    paid, rejected = PaymentOrder.objects.filter(batch=batch).order_by("pk")
    content = pain002(batch, [(paid, ("ACSC", "")), (rejected, ("RJCT", "AC04"))])

    body = _upload(as_role("treasurer"), content).json()

    assert body["kind"] == "pain.002"
    assert body["message_id"] == batch.message_id
    entries = {e["order"]: e for e in body["entries"]}
    assert entries[f"PO-{paid.pk}"]["result"] == "booked"
    assert entries[f"PO-{rejected.pk}"]["result"] == "refused"
    assert entries[f"PO-{rejected.pk}"]["code"] == "AC04"
    assert entries[f"PO-{rejected.pk}"]["reason"]
    assert PaymentOrder.objects.get(pk=rejected.pk).status == OrderStatus.FAILED


def test_uploading_the_same_file_again_is_unchanged_for_every_entry_and_books_nothing(
    world, as_role
):
    _app, batch = _exported_batch(world, "700", "300")
    paid, rejected = PaymentOrder.objects.filter(batch=batch).order_by("pk")
    content = pain002(batch, [(paid, ("ACSC", "")), (rejected, ("RJCT", "AC04"))])
    treasurer = as_role("treasurer")
    _upload(treasurer, content)
    vouchers, events = Voucher.objects.count(), AuditEvent.objects.count()

    again = _upload(treasurer, content).json()

    assert {e["result"] for e in again["entries"]} == {"unchanged"}
    assert len(again["entries"]) == 2
    assert (again["paid"], again["failed"]) == (0, 0)
    assert (Voucher.objects.count(), AuditEvent.objects.count()) == (vouchers, events)


def test_a_payment_of_a_void_file_is_an_exception(world, as_role):
    _app, batch = _exported_batch(world, "700")
    batches.mark_sent(batch, actor=world.treasurer)
    batches.void_batch_file(batch, actor=world.treasurer2)
    (old,) = PaymentOrder.objects.filter(batch=batch)

    body = _upload(as_role("treasurer"), camt054([(old, "2026-11-24", "")])).json()

    (entry,) = body["entries"]
    assert entry["order"] == f"PO-{old.pk}"
    assert entry["result"] == "exception"
    assert entry["reason"]


def test_a_bank_file_that_is_no_xml_is_refused_in_the_importers_words_and_books_nothing(
    world, as_role
):
    _exported_batch(world, "700")
    vouchers = Voucher.objects.count()

    response = _upload(as_role("treasurer"), b"\x89PNG\r\n\x1a\n not a bank file")

    assert response.status_code == 400
    assert "not XML" in response.json()["detail"]
    assert Voucher.objects.count() == vouchers


def test_only_a_treasurer_uploads_a_bank_file(world, as_role):
    _app, batch = _exported_batch(world, "700")
    (order,) = PaymentOrder.objects.filter(batch=batch)

    response = _upload(as_role("auditor"), camt054([(order, "2026-11-24", "")]))

    assert response.status_code == 403
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_a_bank_file_may_be_as_large_as_an_upload_and_no_larger(world, as_role, settings):
    """The raw XML body is a file: the upload limit applies, not the limit of JSON bodies."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.UPLOAD_MAX_BYTES = 4096
    _app, batch = _exported_batch(world, "700")
    (order,) = PaymentOrder.objects.filter(batch=batch)
    content = camt054([(order, "2026-11-24", "")])
    padded = content.replace(b"<GrpHdr>", b"<!--" + b" " * (2048 - len(content)) + b"--><GrpHdr>")
    treasurer = as_role("treasurer")

    too_large = _upload(treasurer, padded + b" " * 4096)
    booked = _upload(treasurer, padded)

    assert too_large.status_code == 413
    assert too_large.json()["code"] == "request_too_large"
    assert booked.status_code == 200, booked.json()
    assert booked.json()["entries"][0]["result"] == "booked"
