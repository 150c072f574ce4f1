"""Review of #20: the same money never goes to the bank twice through the new endpoints, and a
bank file with any problem books nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accounting.models import (
    BankException,
    BatchStatus,
    ExportStatus,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
    PayoutFileJob,
    Voucher,
)
from accounting.payouts import batches
from accounting.tasks import run_payout_file_job
from audit.models import AuditEvent
from tests.accounting.bank_files import camt054, pain002
from tests.review20.helpers import approved_batch, exported_batch, upload

pytestmark = pytest.mark.django_db


def _first_delivery() -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(retries=0, delivery_info={}))


def _ask_for_the_file(client, batch, capture) -> str:
    with capture(execute=False):
        response = client.post(f"/api/v1/payment-batches/{batch.message_id}/file/")
    assert response.status_code == 202, response.json()
    return response.json()["job"]


def test_a_file_job_delivered_twice_exports_the_file_once(
    world, as_role, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PAYOUT_FILES_DIR = tmp_path
    _app, batch = approved_batch(world, "800")
    job = _ask_for_the_file(as_role("treasurer"), batch, django_capture_on_commit_callbacks)

    first = run_payout_file_job(_first_delivery(), job)
    second = run_payout_file_job(_first_delivery(), job)

    assert first["status"] == ExportStatus.DONE
    assert second["skipped"] is True
    assert AuditEvent.objects.filter(action="payout.batch_exported").count() == 1


def test_a_file_job_queued_before_the_file_was_declared_void_exports_nothing(
    world, as_role, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PAYOUT_FILES_DIR = tmp_path
    _app, batch = exported_batch(world, "800")
    batches.mark_sent(batch, actor=world.treasurer)
    job = _ask_for_the_file(as_role("treasurer"), batch, django_capture_on_commit_callbacks)
    batches.void_batch_file(batch, actor=world.treasurer2)

    result = run_payout_file_job(_first_delivery(), job)

    assert result["status"] == ExportStatus.FAILED
    assert PayoutFileJob.objects.get().sha256 == ""
    assert not (tmp_path / f"{batch.message_id}.xml").exists()


def test_a_void_files_download_is_refused_once_it_was_declared_void(world, as_role):
    _app, batch = exported_batch(world, "800")
    batches.void_batch_file(batch, actor=world.treasurer2)

    response = as_role("treasurer").get(f"/api/v1/payment-batches/{batch.message_id}/file/")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert b"<Document" not in response.content


def test_a_pain002_payment_of_a_void_file_is_an_exception_and_the_replacement_stays_payable(
    world, as_role
):
    _app, batch = exported_batch(world, "800")
    batches.void_batch_file(batch, actor=world.treasurer2)
    (old,) = PaymentOrder.objects.filter(batch=batch)
    (replacement,) = PaymentOrder.objects.filter(status=OrderStatus.SCHEDULED)

    body = upload(as_role("treasurer"), pain002(batch, [(old, ("ACSC", ""))])).json()

    assert [(e["order"], e["result"]) for e in body["entries"]] == [(f"PO-{old.pk}", "exception")]
    assert body["paid"] == 0
    assert BankException.objects.filter(order=old).count() == 1
    assert PaymentOrder.objects.get(pk=replacement.pk).status == OrderStatus.SCHEDULED
    assert PaymentBatch.objects.get(pk=batch.pk).status == BatchStatus.VOIDED
    assert not PaymentOrder.objects.filter(status=OrderStatus.PAID).exists()


@pytest.mark.parametrize("status", ["ACTC", "ACCP", "PDNG"])
def test_a_file_the_bank_acknowledged_cannot_be_declared_void(world, as_role, status):
    _app, batch = exported_batch(world, "800")
    (order,) = PaymentOrder.objects.filter(batch=batch)
    answer = upload(as_role("treasurer"), pain002(batch, [(order, (status, ""))]))
    assert answer.status_code == 200, answer.json()
    assert answer.json()["entries"][0]["result"] == "pending"

    void = as_role("treasurer2").post(f"/api/v1/payment-batches/{batch.message_id}/void/")

    assert void.status_code == 400, void.json()
    assert PaymentOrder.objects.count() == 1  # no replacement order for the same item


def test_a_camt054_uploaded_again_with_a_changed_amount_is_refused_whole(world, as_role):
    _app, batch = exported_batch(world, "700", "300")
    first, second = PaymentOrder.objects.filter(batch=batch).order_by("pk")
    treasurer = as_role("treasurer")
    booked = upload(treasurer, camt054([(first, "2026-11-24", "")]))
    assert booked.status_code == 200, booked.json()
    vouchers, events = Voucher.objects.count(), AuditEvent.objects.count()
    changed = camt054([(first, "2026-11-24", ""), (second, "2026-11-24", "")]).replace(
        b">700.00<", b">7000.00<"
    )

    response = upload(treasurer, changed)

    assert response.status_code == 400
    assert "Nothing was imported" in response.json()["detail"]
    assert PaymentOrder.objects.get(pk=second.pk).status == OrderStatus.SCHEDULED
    assert (Voucher.objects.count(), AuditEvent.objects.count()) == (vouchers, events)


def test_a_status_report_naming_another_batchs_order_is_refused_whole(world, as_role):
    _app, batch = exported_batch(world, "700")
    _other_app, other = exported_batch(world, "300")
    (mine,) = PaymentOrder.objects.filter(batch=batch)
    (theirs,) = PaymentOrder.objects.filter(batch=other)
    vouchers = Voucher.objects.count()

    response = upload(
        as_role("treasurer"), pain002(batch, [(mine, ("ACSC", "")), (theirs, ("ACSC", ""))])
    )

    assert response.status_code == 400
    assert f"PO-{theirs.pk}" in response.json()["detail"]
    assert PaymentOrder.objects.filter(status=OrderStatus.PAID).count() == 0
    assert Voucher.objects.count() == vouchers


def test_a_status_report_for_a_batch_whose_file_was_never_exported_books_nothing(world, as_role):
    _app, batch = approved_batch(world, "700")
    (order,) = PaymentOrder.objects.filter(batch=batch)

    response = upload(as_role("treasurer"), pain002(batch, [(order, ("ACSC", ""))]))

    assert response.status_code == 400
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_a_debit_notification_for_an_order_never_exported_books_nothing(world, as_role):
    _app, batch = approved_batch(world, "700")
    (order,) = PaymentOrder.objects.filter(batch=batch)

    response = upload(as_role("treasurer"), camt054([(order, "2026-11-24", "")]))

    assert response.status_code == 400
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_each_entry_says_booked_only_for_what_this_file_booked(world, as_role):
    """One order paid by hand first: the file's word about it is not a second booking."""
    _app, batch = exported_batch(world, "700", "300")
    batches.mark_sent(batch, actor=world.treasurer)
    first, second = PaymentOrder.objects.filter(batch=batch).order_by("pk")
    from accounting.payouts.settlement import confirm_paid

    confirm_paid([first], actor=world.treasurer)
    vouchers = Voucher.objects.count()

    body = upload(
        as_role("treasurer"),
        camt054([(first, "2026-11-24", ""), (second, "2026-11-24", "")]),
    ).json()

    results = {e["order"]: e["result"] for e in body["entries"]}
    assert results == {f"PO-{first.pk}": "unchanged", f"PO-{second.pk}": "booked"}
    assert body["paid"] == 1
    assert Voucher.objects.count() == vouchers + 1


def test_a_second_file_request_after_the_export_gives_the_same_bytes(
    world, as_role, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PAYOUT_FILES_DIR = tmp_path
    _app, batch = exported_batch(world, "800")
    treasurer = as_role("treasurer")
    before = treasurer.get(f"/api/v1/payment-batches/{batch.message_id}/file/").content
    job = _ask_for_the_file(treasurer, batch, django_capture_on_commit_callbacks)

    run_payout_file_job(_first_delivery(), job)

    assert (tmp_path / f"{batch.message_id}.xml").read_bytes() == before
    assert AuditEvent.objects.filter(action="payout.batch_exported").count() == 1
