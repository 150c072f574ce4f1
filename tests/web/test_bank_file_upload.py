"""Issue #20: the treasurer uploads the bank's answer on the pages and sees, per payment, what
the import did — in one page load."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounting.models import OrderStatus, PaymentOrder, Voucher
from fund.states import State
from tests.accounting.bank_files import camt054, pain002
from tests.fixtures import World
from tests.web.conftest import sign_in


def _sent(world: World, *amounts: str) -> tuple[object, list[PaymentOrder]]:
    app = world.run(
        world.to_approved(world.new_application(*amounts)), "schedule_payout", world.treasurer
    )
    batch = world.send_payouts(app)
    return batch, list(PaymentOrder.objects.filter(batch=batch).order_by("pk"))


def _upload(client: Client, content: bytes, name: str = "bank.xml") -> object:
    return client.post(
        reverse("web:bank_file_upload"), {"file": SimpleUploadedFile(name, content, "text/xml")}
    )


def test_the_treasury_page_has_the_bank_file_upload_form(world: World) -> None:
    page = sign_in(Client(), world.treasurer).get(reverse("web:treasury")).content.decode()

    assert 'enctype="multipart/form-data"' in page
    assert reverse("web:bank_file_upload") in page
    assert "Bank file (pain.002 or camt.054)" in page


def test_a_camt054_upload_books_the_payments_and_shows_each_entrys_result(world: World) -> None:
    _batch, orders = _sent(world, "700", "300")
    client = sign_in(Client(), world.treasurer)

    response = _upload(client, camt054([(order, "2026-11-24", "") for order in orders]))

    assert response.status_code == 200  # posted and answered in one page load
    page = response.content.decode()
    for order in orders:
        assert f"PO-{order.pk}" in page
    assert page.count("Booked as paid on 2026-11-24.") == 2
    assert {o.status for o in PaymentOrder.objects.all()} == {OrderStatus.PAID}
    assert orders[0].application.__class__.objects.get().state == State.PAID


def test_a_rejection_shows_its_code_and_the_second_upload_changes_nothing(world: World) -> None:
    batch, (paid, rejected) = _sent(world, "700", "300")
    content = pain002(batch, [(paid, ("ACSC", "")), (rejected, ("RJCT", "AC04"))])
    client = sign_in(Client(), world.treasurer)

    first = _upload(client, content).content.decode()
    vouchers = Voucher.objects.count()
    again = _upload(client, content).content.decode()

    assert "AC04" in first and "The account is closed" in first
    assert again.count("Already booked; this file changes nothing for it.") == 2
    assert Voucher.objects.count() == vouchers


def test_a_file_that_is_no_bank_file_is_refused_in_the_importers_words(world: World) -> None:
    _sent(world, "700")
    client = sign_in(Client(), world.treasurer)

    response = _upload(client, b"\x89PNG\r\n\x1a\n", name="scan.png")

    assert response.status_code == 400
    assert "The bank file is not XML" in response.content.decode()
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_only_a_treasurer_uploads_a_bank_file(world: World) -> None:
    _batch, orders = _sent(world, "700")
    client = sign_in(Client(), world.auditor)

    response = _upload(client, camt054([(orders[0], "2026-11-24", "")]))

    assert response.status_code == 403
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED
