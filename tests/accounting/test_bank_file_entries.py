"""Issue #20: the bank-file import says, per payment, what it did — and the command prints it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounting.bank_status import import_camt054
from accounting.models import PaymentOrder
from tests.accounting.bank_files import camt054_entry, camt054_file

pytestmark = pytest.mark.django_db


def _sent(world, *amounts):  # type: ignore[no-untyped-def]
    app = world.run(
        world.to_approved(world.new_application(*amounts)), "schedule_payout", world.treasurer
    )
    batch = world.send_payouts(app)
    return list(PaymentOrder.objects.filter(batch=batch).order_by("pk"))


def test_each_entry_of_a_camt054_has_its_result_in_the_files_order(world):
    paid, pending = _sent(world, "700", "300")
    content = camt054_file(
        [
            camt054_entry([("OTHER-DEBIT-9", "50.00", "SEK")], total="50.00"),
            camt054_entry([(pending, "300.00", "SEK")], total="300.00", status="PDNG"),
            camt054_entry([(paid, "700.00", "SEK")], total="700.00"),
        ]
    )

    report = import_camt054(content, actor=world.treasurer)

    assert report.kind == "camt.054"
    assert [(e.order, e.result, e.code) for e in report.entries] == [
        ("OTHER-DEBIT-9", "not_matched", ""),
        (f"PO-{pending.pk}", "pending", "PDNG"),
        (f"PO-{paid.pk}", "booked", ""),
    ]
    assert all(e.reason for e in report.entries)


def test_a_returned_payment_is_refused_with_the_banks_code(world):
    (order,) = _sent(world, "700")
    entry = camt054_entry([(order, "700.00", "SEK")], total="700.00", returned="AC04")

    (result,) = import_camt054(camt054_file([entry]), actor=world.treasurer).entries

    assert (result.result, result.code) == ("refused", "AC04")
    assert "The account is closed" in result.reason


def test_the_bank_status_command_prints_each_entrys_result(world, tmp_path):
    (order,) = _sent(world, "700")
    path = tmp_path / "camt.xml"
    path.write_bytes(camt054_file([camt054_entry([(order, "700.00", "SEK")], total="700.00")]))
    out = StringIO()

    call_command("bank_status", file=str(path), user=world.treasurer.username, stdout=out)

    assert f"PO-{order.pk}: booked" in out.getvalue()
