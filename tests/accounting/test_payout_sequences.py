"""Issue #13: the money path as a whole — sequences of steps that paid twice or booked wrongly.

Each test is one scenario the review drove through the services; each failed before the fix.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from lxml import etree

from accounting.bank_exceptions import resolve_bank_exception
from accounting.bank_status import import_bank_file, import_camt054, import_pain002
from accounting.ledger import trial_balance
from accounting.models import (
    BankException,
    BankExceptionKind,
    BatchStatus,
    Commitment,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
)
from accounting.payouts import batches
from core.exceptions import PermissionDenied, ValidationFailed
from fund.states import State
from tests.accounting.bank_files import camt054, camt054_entry, camt054_file, pain002

pytestmark = pytest.mark.django_db

#: Bank differences under investigation (chart role "bank_suspense").
SUSPENSE_ACCOUNT = "1689"

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _scheduled(world, *amounts: str):  # type: ignore[no-untyped-def]
    app = world.to_approved(world.new_application(*amounts))
    return world.run(app, "schedule_payout", world.treasurer)


def _approved_batch(world, *apps) -> PaymentBatch:  # type: ignore[no-untyped-def]
    batch = batches.create_batch(actor=world.treasurer, applications=apps)
    return batches.approve_batch(batch, actor=world.treasurer2)


def _commitments_in(file: bytes) -> list[int]:
    """The commitment of every payment a pain.001 file carries."""
    ids = [
        int(e.text.removeprefix("PO-"))
        for e in etree.fromstring(file).iterfind(".//p:EndToEndId", NS)
    ]
    return [PaymentOrder.objects.get(pk=pk).commitment_id for pk in ids]


def _orders(app) -> list[PaymentOrder]:  # type: ignore[no-untyped-def]
    return list(PaymentOrder.objects.filter(application=app).order_by("need_item__position", "pk"))


# --- 1. A failed order in an unsent batch is not exported ----------------------------------


def test_a_failed_order_in_an_unsent_batch_is_not_exported_again_with_its_replacement(world):
    first, second = _scheduled(world, "700"), _scheduled(world, "300")
    batch = _approved_batch(world, first, second)
    world.run(first, "payout_failed", world.treasurer, reason="wrong_account")
    first.refresh_from_db()
    assert first.state == State.APPROVED
    world.run(first, "schedule_payout", world.treasurer)
    again = _approved_batch(world, first)

    old_file = batches.export_batch(batch, actor=world.treasurer)
    new_file = batches.export_batch(again, actor=world.treasurer)

    carried = _commitments_in(old_file) + _commitments_in(new_file)
    assert sorted(carried) == sorted(set(carried)), "a commitment is in two files"
    assert Commitment.objects.get(application=first).pk in _commitments_in(new_file)
    assert Commitment.objects.get(application=first).pk not in _commitments_in(old_file)


def test_a_batch_whose_orders_all_failed_has_no_file(world):
    app = _scheduled(world, "700")
    batch = _approved_batch(world, app)
    world.run(app, "payout_failed", world.treasurer, reason="wrong_account")
    with pytest.raises(ValidationFailed, match="No order in this batch can still be paid"):
        batches.export_batch(batch, actor=world.treasurer)


def test_a_status_report_for_a_batch_that_was_never_sent_is_refused(world):
    app = _scheduled(world, "700")
    batch = _approved_batch(world, app)
    (order,) = _orders(app)
    with pytest.raises(ValidationFailed, match="never exported"):
        import_pain002(pain002(batch, [(order, ("RJCT", "AC04"))]), actor=world.treasurer)
    order.refresh_from_db()
    app.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED and app.state == State.PAYOUT_SCHEDULED


# --- 2. An exported file cannot be cancelled and re-batched ---------------------------------


def test_a_batch_whose_file_was_exported_cannot_be_cancelled(world):
    app = _scheduled(world, "700")
    batch = _approved_batch(world, app)
    batches.export_batch(batch, actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="declares the file void"):
        batches.cancel_batch(batch, actor=world.treasurer)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED
    assert PaymentOrder.objects.get(application=app).batch_id == batch.pk


def test_voiding_an_exported_file_needs_a_second_treasurer_and_voids_its_message_id(world):
    app = _scheduled(world, "700")
    batch = world.send_payouts(app)  # exported and sent by world.treasurer
    with pytest.raises(PermissionDenied, match="another treasurer"):
        batches.void_batch_file(batch, actor=world.treasurer)
    batches.void_batch_file(batch, actor=world.treasurer2)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.VOIDED and batch.voided_by == world.treasurer2
    old, new = _orders(app)
    assert old.status == OrderStatus.CANCELLED and old.batch_id == batch.pk
    assert new.status == OrderStatus.SCHEDULED and new.batch_id is None
    assert new.commitment_id == old.commitment_id
    app.refresh_from_db()
    assert app.state == State.PAYOUT_SCHEDULED  # the replacement waits for a new file

    second = world.send_payouts(app)
    assert second.message_id != batch.message_id
    import_pain002(pain002(second, [(new, ("ACSC", ""))]), actor=world.treasurer)
    app.refresh_from_db()
    assert app.state == State.PAID


def test_a_void_file_the_bank_pays_after_all_is_an_exception_not_a_second_payment(world):
    app = _scheduled(world, "700")
    batch = world.send_payouts(app)
    batches.void_batch_file(batch, actor=world.treasurer2)
    old, _replacement = _orders(app)
    world.send_payouts(app)
    import_pain002(pain002(batch, [(old, ("ACSC", ""))]), actor=world.treasurer)
    old.refresh_from_db()
    assert old.status == OrderStatus.CANCELLED and old.voucher is None
    exception = BankException.objects.get(order=old)
    assert exception.kind == BankExceptionKind.PAID_AFTER_FAILURE
    assert trial_balance()[SUSPENSE_ACCOUNT] == Decimal("700.00")


def test_a_file_the_bank_answered_cannot_be_declared_void(world):
    app = _scheduled(world, "700", "300")
    batch = world.send_payouts(app)
    first, _second = _orders(app)
    import_pain002(pain002(batch, [(first, ("ACSC", ""))]), actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="has answered for this file"):
        batches.void_batch_file(batch, actor=world.treasurer2)


# --- 3. One rejected order does not send the whole case back --------------------------------


def test_one_rejected_order_keeps_the_case_in_payout_while_its_other_orders_are_at_the_bank(
    world,
):
    app = _scheduled(world, "700", "300")
    batch = world.send_payouts(app)
    first, second = _orders(app)
    import_pain002(pain002(batch, [(first, ("RJCT", "AC04"))]), actor=world.treasurer)
    app.refresh_from_db()
    assert app.state == State.PAYOUT_SCHEDULED
    with pytest.raises(Exception):  # noqa: B017 - not withdrawable in payout at all
        world.run(app, "withdraw", world.ombud.user, reason="applicant_request")

    import_camt054(camt054([(second, "2026-11-24", "")]), actor=world.treasurer)
    app.refresh_from_db()
    assert app.state == State.APPROVED  # only now: the failed item can be scheduled again
    with pytest.raises(ValidationFailed, match="paid out in part"):
        world.run(app, "withdraw", world.ombud.user, reason="applicant_request")
    assert Commitment.objects.get(need_item=first.need_item).status == "open"

    world.run(app, "schedule_payout", world.treasurer)
    assert [o.need_item_id for o in _orders(app) if o.status == OrderStatus.SCHEDULED] == [
        first.need_item_id
    ]


def test_withdrawal_is_refused_while_any_order_is_scheduled(world):
    from accounting.workflow_hooks import withdrawal_problems

    app = _scheduled(world, "700")
    assert withdrawal_problems(app)  # a scheduled order holds the case
    world.run(app, "payout_failed", world.treasurer, reason="wrong_account")
    app.refresh_from_db()
    assert withdrawal_problems(app) == []
    world.run(app, "withdraw", world.ombud.user, reason="applicant_request")


# --- 4. camt.054 books only BOOK ------------------------------------------------------------


@pytest.mark.parametrize("status", ["PDNG", "INFO", ""])
def test_camt054_books_only_booked_entries_a_pending_one_in_the_newer_form_is_left_as_it_is(
    world, status
):
    app = _scheduled(world, "700")
    world.send_payouts(app)
    (order,) = _orders(app)
    content = camt054_file(
        [camt054_entry([(order, "700.00", "SEK")], total="700.00", status=status)]
    )
    report = import_camt054(content, actor=world.treasurer)
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED and order.voucher is None
    assert report.paid == 0 and report.pending == 1
    assert report.not_booked == [f"PO-{order.pk}: {status or '-'}"]


@pytest.mark.parametrize("form", ["code", "plain"])
def test_camt054_books_a_booked_entry_in_either_form(world, form):
    app = _scheduled(world, "700")
    world.send_payouts(app)
    (order,) = _orders(app)
    content = camt054_file(
        [camt054_entry([(order, "700.00", "SEK")], total="700.00", status_form=form)],
        version="001.08" if form == "code" else "001.02",
    )
    assert import_camt054(content, actor=world.treasurer).paid == 1


# --- 5. Each transaction of an entry is checked -----------------------------------------------


def test_camt054_entry_with_several_transactions_in_another_currency_books_nothing(world):
    app = _scheduled(world, "1500", "800")
    world.send_payouts(app)
    first, second = _orders(app)
    content = camt054_file(
        [camt054_entry([(first, "0.50", "EUR"), (second, "0.50", "EUR")], total="1.00")]
    )
    with pytest.raises(ValidationFailed) as refused:
        import_camt054(content, actor=world.treasurer)
    assert "in SEK" in " ".join(refused.value.messages)
    assert PaymentOrder.objects.filter(status=OrderStatus.PAID).count() == 0


def test_camt054_entry_total_must_be_the_sum_of_its_transactions(world):
    app = _scheduled(world, "1500", "800")
    world.send_payouts(app)
    first, second = _orders(app)
    content = camt054_file(
        [camt054_entry([(first, "1500.00", "SEK"), (second, "800.00", "SEK")], total="1.00")]
    )
    with pytest.raises(ValidationFailed, match="not the sum of its transactions"):
        import_camt054(content, actor=world.treasurer)
    wrong = camt054_file(
        [camt054_entry([(first, "1500.00", "SEK"), (second, "80.00", "SEK")], total="1580.00")]
    )
    with pytest.raises(ValidationFailed, match=r"which is 800\.00 SEK"):
        import_camt054(wrong, actor=world.treasurer)
    assert PaymentOrder.objects.filter(status=OrderStatus.PAID).count() == 0

    right = camt054_file(
        [camt054_entry([(first, "1500.00", "SEK"), (second, "800.00", "SEK")], total="2300.00")]
    )
    assert import_camt054(right, actor=world.treasurer).paid == 2
    app.refresh_from_db()
    assert app.state == State.PAID


# --- The books follow the bank: exceptions -----------------------------------------------------


def test_a_payment_booked_for_an_order_already_failed_is_booked_as_an_exception(world):
    app = _scheduled(world, "700", "300")
    batch = world.send_payouts(app)
    first, second = _orders(app)
    import_pain002(pain002(batch, [(first, ("RJCT", "AC04"))]), actor=world.treasurer)
    bank_before = trial_balance()["1930"]

    content = camt054([(first, "2026-11-24", ""), (second, "2026-11-24", "")])
    report = import_bank_file(content, actor=world.treasurer)

    assert report.paid == 1 and report.exceptions == [f"PO-{first.pk}: paid_after_failure"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == OrderStatus.FAILED and second.status == OrderStatus.PAID
    assert trial_balance()["1930"] == bank_before - Decimal("1000.00")  # all that left is booked
    assert trial_balance()[SUSPENSE_ACCOUNT] == Decimal("700.00")
    # The same file again changes nothing.
    assert import_bank_file(content, actor=world.treasurer).exceptions == []
    assert BankException.objects.count() == 1

    exception = BankException.objects.get()
    with pytest.raises(PermissionDenied, match="another treasurer"):
        resolve_bank_exception(exception, actor=world.treasurer, resolution="accepted_as_grant")
    with pytest.raises(ValidationFailed, match="does not fit"):
        resolve_bank_exception(exception, actor=world.treasurer2, resolution="returned_to_fund")
    resolve_bank_exception(exception, actor=world.treasurer2, resolution="accepted_as_grant")
    balance = trial_balance()
    assert balance[SUSPENSE_ACCOUNT] == Decimal("0.00")
    assert balance["6710"] == Decimal("1000.00")


def test_money_returned_for_a_paid_order_is_booked_as_an_exception(world):
    app = _scheduled(world, "700")
    world.send_payouts(app)
    (order,) = _orders(app)
    import_camt054(camt054([(order, "2026-11-24", "")]), actor=world.treasurer)
    returned = camt054_file(
        [
            camt054_entry(
                [(order, "700.00", "SEK")], total="700.00", direction="CRDT", returned="AC04"
            )
        ]
    )
    report = import_camt054(returned, actor=world.treasurer)
    assert report.exceptions == [f"PO-{order.pk}: returned_after_payment"]
    assert trial_balance()[SUSPENSE_ACCOUNT] == Decimal("-700.00")
    resolve_bank_exception(
        BankException.objects.get(), actor=world.treasurer2, resolution="returned_to_fund"
    )
    balance = trial_balance()
    assert balance[SUSPENSE_ACCOUNT] == Decimal("0.00") and balance["6710"] == Decimal("0.00")


# --- Found by the adversarial review of the merged fix ------------------------------------------


def test_one_payment_of_a_void_file_said_by_two_bank_files_is_booked_out_once(world):
    app = _scheduled(world, "1500")
    batch = world.send_payouts(app)
    (order,) = _orders(app)
    batches.void_batch_file(batch, actor=world.treasurer2)
    import_pain002(pain002(batch, [(order, ("ACSC", ""))]), actor=world.treasurer)
    entry = camt054_entry([(order, "1500.00", "SEK")], total="1500.00")
    import_camt054(camt054_file([entry], version="001.08"), actor=world.treasurer)
    import_camt054(camt054_file([entry], version="001.02"), actor=world.treasurer)
    assert BankException.objects.filter(order=order).count() == 1
    assert trial_balance()[SUSPENSE_ACCOUNT] == Decimal("1500.00")


def test_a_bank_rejection_after_a_confirmation_by_hand_is_booked_as_an_exception(world):
    app = world.to_paid(world.new_application("1500"))  # the treasurer confirmed by hand
    (order,) = _orders(app)
    bank_before = trial_balance()["1930"]
    report = import_pain002(
        pain002(order.batch, [(order, ("RJCT", "AC04"))]), actor=world.treasurer
    )
    assert report.exceptions == [f"PO-{order.pk}: rejected_after_confirmation"]
    assert trial_balance()["1930"] == bank_before + Decimal("1500.00")  # the money never left
    resolve_bank_exception(
        BankException.objects.get(), actor=world.treasurer2, resolution="returned_to_fund"
    )
    balance = trial_balance()
    assert balance[SUSPENSE_ACCOUNT] == Decimal("0.00") and balance["6710"] == Decimal("0.00")


def test_a_bank_rejection_after_the_banks_own_booking_leaves_the_booking(world):
    app = _scheduled(world, "1500")
    batch = world.send_payouts(app)
    (order,) = _orders(app)
    import_camt054(camt054([(order, "2026-11-24", "")]), actor=world.treasurer)
    report = import_pain002(pain002(batch, [(order, ("RJCT", "AC04"))]), actor=world.treasurer)
    assert report.unknown == [f"PO-{order.pk}"] and report.exceptions == []
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_whoever_registered_the_payee_or_scheduled_the_order_cannot_declare_its_file_void(
    world,
):
    from tests.factories import UserFactory

    app = _scheduled(world, "1500")  # world.treasurer registered the payee and scheduled
    batch = batches.create_batch(actor=world.treasurer2, applications=[app])
    batches.approve_batch(batch, actor=UserFactory(roles=["treasurer"]))
    batches.export_batch(batch, actor=world.treasurer2)
    batches.mark_sent(batch, actor=world.treasurer2)
    with pytest.raises(PermissionDenied, match="registered a payee or scheduled an order"):
        batches.void_batch_file(batch, actor=world.treasurer)
    batches.void_batch_file(batch, actor=UserFactory(roles=["treasurer"]))


def test_a_void_file_is_removed_from_the_payout_folder(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PAYOUT_FILES_DIR = str(tmp_path)
    app = _scheduled(world, "1500")
    batch = world.send_payouts(app)
    written = tmp_path / f"{batch.message_id}.xml"
    written.write_bytes(batches.export_batch(batch, actor=world.treasurer))
    with django_capture_on_commit_callbacks(execute=True):
        batches.void_batch_file(batch, actor=world.treasurer2)
    assert not written.exists()


def test_payout_failed_by_hand_never_leaves_an_order_at_the_bank(world):
    app = _scheduled(world, "700")
    world.send_payouts(app)
    (order,) = _orders(app)
    with pytest.raises(ValidationFailed):
        world.run(app, "payout_failed", world.treasurer, reason="other", payment_orders=[order.pk])
    app.refresh_from_db()
    assert app.state == State.PAYOUT_SCHEDULED


def test_a_voided_file_is_overwritten_before_it_is_unlinked(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Unlinking alone leaves the bytes (accounts, a personkonto) wherever another link or a
    freed block keeps them; the file is overwritten in place first, like a redaction."""
    from accounting.tasks import generate_payout_file, payout_file_path

    settings.PAYOUT_FILES_DIR = tmp_path
    app = _scheduled(world, "700")
    batch = _approved_batch(world, app)
    generate_payout_file.delay(batch.message_id, world.treasurer.pk).get()
    path = payout_file_path(batch.message_id)
    content = path.read_bytes()
    other_link = tmp_path / "other-link"
    os.link(path, other_link)  # the same inode, as a backup tool's hard link would be

    with django_capture_on_commit_callbacks(execute=True):
        batches.void_batch_file(batch, actor=world.treasurer2)

    assert not path.exists()
    left = other_link.read_bytes()
    assert len(left) == len(content) and set(left) == {0}
