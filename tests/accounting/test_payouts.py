"""Payment orders, four-eyes batches, pain.001 files, the bank's answer, idempotency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from accounting import ledger, pain001
from accounting.bank_status import import_pain002
from accounting.models import (
    BatchStatus,
    Commitment,
    OrderStatus,
    PaymentOrder,
    Posting,
    Voucher,
)
from accounting.payees import create_payee
from accounting.payouts import batches, settlement
from accounting.selectors import fund_report
from audit.models import AuditEvent
from core.exceptions import ConflictError, PermissionDenied, ValidationFailed
from fund.states import State
from tests.accounting.bank_files import camt054 as _camt054
from tests.accounting.bank_files import pain002 as _pain002
from tests.factories import UserFactory
from tests.fixtures import approved_payee
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

NS = {"p": pain001.NAMESPACE}


def _scheduled(world, *amounts: str, **data):  # type: ignore[no-untyped-def]
    app = world.to_approved(world.new_application(*amounts, name="Hemliga Personen"))
    return world.run(app, "schedule_payout", world.treasurer, **data)


def _payees(world, app=None):  # type: ignore[no-untyped-def]
    """Approved payees of each method; with ``app``, also its person's own bank account."""

    def payee(**details):  # type: ignore[no-untyped-def]
        return approved_payee(world.treasurer, world.treasurer2, **details)

    chosen = {
        "bg": payee(kind="supplier", name="Optik AB", method="bankgiro", account="991-2346"),
        "pg": payee(kind="supplier", name="Apotek", method="plusgiro", account="9020025"),
        "iban": payee(
            kind="supplier",
            name="Hyresvärd",
            method="iban",
            account="SE3250000000000058398250",
            bic="ESSESESS",
        ),
    }
    if app is not None:
        chosen["bank"] = payee(
            kind="person",
            person_name="Hemliga Personen",
            method="bank_account",
            clearing_number="6789",
            account="123456703",
            beneficiary=app.beneficiary,
        )
    return chosen


def test_schedule_creates_one_order_per_item_to_the_default_payee(world):
    app = _scheduled(world, "1500", "800")
    orders = list(PaymentOrder.objects.filter(application=app).order_by("need_item__position"))
    assert [o.amount.amount for o in orders] == [Decimal("1500.00"), Decimal("800.00")]
    assert {o.payee.organisation_id for o in orders} == {world.ombud.organisation_id}
    assert {o.remittance for o in orders} == {app.reference}
    assert app.state == State.PAYOUT_SCHEDULED


def test_payees_are_chosen_per_item(world):
    chosen = _payees(world)
    app = world.to_approved(world.new_application("100", "200"))
    first, second = app.items.order_by("position")
    world.run(
        app,
        "schedule_payout",
        world.treasurer,
        payees={first.pk: chosen["bg"].pk, str(second.pk): chosen["iban"].pk},
    )
    assert dict(PaymentOrder.objects.values_list("need_item_id", "payee_id")) == {
        first.pk: chosen["bg"].pk,
        second.pk: chosen["iban"].pk,
    }


def test_without_a_default_payee_the_treasurer_must_choose(world):
    create_payee(
        actor=world.treasurer,
        kind="organisation",
        name="Andra kontoret",
        method="bankgiro",
        account="991-2346",
        organisation=world.ombud.organisation,
    )
    app = world.to_approved(world.new_application("100"))
    with pytest.raises(ValidationFailed, match="choose a payee"):
        world.run(app, "schedule_payout", world.treasurer)


def test_batch_needs_a_second_treasurer(world):
    app = _scheduled(world, "100")
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    with pytest.raises(PermissionDenied, match="did not"):
        batches.approve_batch(batch, actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="second treasurer approved"):
        batches.export_batch(batch, actor=world.treasurer)
    with pytest.raises(PermissionDenied):
        batches.approve_batch(batch, actor=world.officer)
    batches.approve_batch(batch, actor=world.treasurer2)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED and batch.approved_by == world.treasurer2


def test_a_decider_of_a_case_in_the_batch_may_not_approve_it(world):
    both = UserFactory(roles=["decision_maker", "treasurer"])
    world.fund.handlers.add(both)
    app = world.to_decision(world.new_application("100"))
    app = world.run(app, "approve", both)
    app = world.run(app, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    with pytest.raises(PermissionDenied, match="decided a case in this batch"):
        batches.approve_batch(batch, actor=both)


@pytest.mark.evidence("ledger")
def test_an_order_is_in_one_batch_only(world):
    app = _scheduled(world, "100")
    batches.create_batch(actor=world.treasurer, applications=[app])
    with pytest.raises(ConflictError, match="already in batch"):
        batches.create_batch(actor=world.treasurer2, applications=[app])


def test_cancelled_batch_frees_its_orders(world):
    app = _scheduled(world, "100")
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.cancel_batch(batch, actor=world.treasurer2)
    again = batches.create_batch(actor=world.treasurer, applications=[app])
    assert list(again.orders.all()) == list(PaymentOrder.objects.filter(application=app))


def test_pain001_validates_and_names_no_person(world):
    app = world.to_approved(
        world.new_application("100", "200", "300", "400", name="Hemliga Personen")
    )
    chosen = _payees(world, app)
    items = list(app.items.order_by("position"))
    world.run(
        app,
        "schedule_payout",
        world.treasurer,
        payees={
            i.pk: chosen[k].pk for i, k in zip(items, ["bg", "pg", "bank", "iban"], strict=True)
        },
    )
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.approve_batch(batch, actor=world.treasurer2)
    content = batches.export_batch(batch, actor=world.treasurer)
    doc = etree.fromstring(content)
    assert pain001.schema().validate(doc)
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "4"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "1000.00"
    txs = doc.findall(".//p:CdtTrfTxInf", NS)
    accounts = [tx.find("p:CdtrAcct/p:Id", NS) for tx in txs]
    assert accounts[0].findtext("p:Othr/p:Id", namespaces=NS) == "9912346"
    assert accounts[0].findtext("p:Othr/p:SchmeNm/p:Prtry", namespaces=NS) == "BGNR"
    assert accounts[1].findtext("p:Othr/p:Id", namespaces=NS) == "9020025"
    assert accounts[1].findtext("p:Othr/p:SchmeNm/p:Cd", namespaces=NS) == "BBAN"
    assert accounts[2].findtext("p:Othr/p:Id", namespaces=NS) == "6789123456703"
    assert txs[2].findtext(".//p:ClrSysMmbId/p:MmbId", namespaces=NS) == "6789"
    assert accounts[3].findtext("p:IBAN", namespaces=NS) == "SE3250000000000058398250"
    assert {tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS) for tx in txs} == {app.reference}
    assert txs[2].findtext("p:Cdtr/p:Nm", namespaces=NS) == chosen["bank"].reference
    text = content.decode()
    assert "Hemliga" not in text and "Personen" not in text
    assert app.beneficiary.reference not in text


def test_plusgiro_scheme_is_configurable(world, settings):
    settings.ACCOUNTING_PAIN001 = {"PLUSGIRO_SCHEME": ("Prtry", "PGNR")}
    chosen = _payees(world)
    app = world.to_approved(world.new_application("100"))
    world.run(app, "schedule_payout", world.treasurer, payee=chosen["pg"].pk)
    content = world.send_payouts(app) and PaymentOrder.objects.get(application=app).batch
    xml = etree.fromstring(batches.export_batch(content, actor=world.treasurer))
    assert xml.findtext(".//p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry", namespaces=NS) == "PGNR"


def test_an_invalid_file_is_never_returned():
    transfer = pain001.Transfer(
        "PO-1", Decimal("1.00"), "X", "bankgiro", "9912346", "", "", "A" * 200
    )
    with pytest.raises(ValidationFailed, match=r"does not follow pain\.001"):
        pain001.build(
            message_id="M1",
            created_at=__import__("datetime").datetime(2026, 1, 1, 12),
            execution_date=__import__("datetime").date(2026, 1, 2),
            transfers=[transfer],
        )


@pytest.mark.evidence("ledger")
def test_export_is_repeatable_and_audited_once(world):
    app = _scheduled(world, "100")
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.approve_batch(batch, actor=world.treasurer2)
    first = batches.export_batch(batch, actor=world.treasurer)
    again = batches.export_batch(batch, actor=world.treasurer)
    assert first == again
    assert AuditEvent.objects.filter(action="payout.batch_exported").count() == 1


@pytest.mark.evidence("ledger")
def test_confirmation_settles_the_decided_grant_2890_against_1930_on_the_fund_and_pays_the_case(
    world,
):
    app = _scheduled(world, "1500", "800")
    batch = world.send_payouts(app)
    assert settlement.confirm_batch_paid(batch, actor=world.treasurer) == 2
    app.refresh_from_db()
    assert app.state == State.PAID
    for order in PaymentOrder.objects.filter(application=app):
        postings = {p.account.number: p for p in order.voucher.postings.select_related("account")}
        # The cost (6710) was booked when the decision took effect; the payout settles the
        # liability it booked ("beviljade, ej utbetalda bidrag").
        assert set(postings) == {"2890", "1930"}
        assert postings["2890"].amount.amount == order.amount.amount
        assert postings["1930"].amount.amount == -order.amount.amount
        assert {p.fund_object.fund_id for p in postings.values()} == {world.fund.pk}
        assert app.reference in order.voucher.text and "Hemliga" not in order.voucher.text
    assert set(Commitment.objects.filter(application=app).values_list("status", flat=True)) == {
        "expensed"
    }
    # Retrying the confirmation books nothing twice.
    vouchers = Voucher.objects.count()
    assert settlement.confirm_batch_paid(batch, actor=world.treasurer) == 0
    assert settlement.confirm_paid(list(batch.orders.all()), actor=world.treasurer) == 0
    assert Voucher.objects.count() == vouchers


@pytest.mark.evidence("ledger")
def test_unsent_orders_cannot_be_confirmed(world):
    app = _scheduled(world, "100")
    with pytest.raises(ValidationFailed, match="not been sent"):
        world.run(app, "confirm_paid", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.approve_batch(batch, actor=world.treasurer2)
    with pytest.raises(ValidationFailed, match="not been sent"):
        settlement.confirm_batch_paid(batch, actor=world.treasurer)


def test_pain002_pays_settled_and_fails_rejected_with_the_reason(world):
    paid_app = _scheduled(world, "100")
    failed_app = _scheduled(world, "200")
    batch = world.send_payouts(paid_app, failed_app)
    paid_order = PaymentOrder.objects.get(application=paid_app)
    failed_order = PaymentOrder.objects.get(application=failed_app)
    content = _pain002(batch, [(paid_order, ("ACSC", "")), (failed_order, ("RJCT", "AC04"))])
    report = import_pain002(content, actor=world.treasurer)
    assert (report.paid, report.failed) == (1, 1)
    paid_app.refresh_from_db()
    failed_app.refresh_from_db()
    assert paid_app.state == State.PAID
    assert failed_app.state == State.APPROVED
    failed_order.refresh_from_db()
    assert (failed_order.status, failed_order.failure_code) == (OrderStatus.FAILED, "AC04")
    event = AuditEvent.objects.get(
        action="application.payout_failed", object_ref=failed_app.reference
    )
    assert event.payload["reason"] == "account_closed"
    # The commitment stays: the case can be scheduled again to a corrected payee.
    assert Commitment.objects.get(application=failed_app).status == "open"
    again = import_pain002(content, actor=world.treasurer)
    assert (again.paid, again.failed) == (0, 0)
    supplier = approved_payee(
        world.treasurer,
        world.treasurer2,
        kind="supplier",
        name="Ny",
        method="bankgiro",
        account="991-2346",
    )
    world.run(failed_app, "schedule_payout", world.treasurer, payee=supplier.pk)
    batch2 = world.send_payouts(failed_app)
    settlement.confirm_batch_paid(batch2, actor=world.treasurer)
    failed_app.refresh_from_db()
    assert failed_app.state == State.PAID
    assert Posting.objects.filter(account__number="6710").count() == 2


def test_direct_payout_failed_transition_fails_the_open_orders(world):
    app = _scheduled(world, "100")
    batches.create_batch(actor=world.treasurer, applications=[app])  # batched, file not exported
    world.run(app, "payout_failed", world.treasurer, reason="wrong_account")
    assert PaymentOrder.objects.get(application=app).status == OrderStatus.FAILED


def test_an_order_in_a_file_the_bank_may_have_fails_only_by_the_banks_word(world):
    app = _scheduled(world, "100")
    world.send_payouts(app)
    with pytest.raises(ValidationFailed, match="wait for the bank's answer"):
        world.run(app, "payout_failed", world.treasurer, reason="wrong_account")
    assert PaymentOrder.objects.get(application=app).status == OrderStatus.SCHEDULED


def test_payout_file_command_writes_the_validated_file(world, tmp_path):
    app = _scheduled(world, "100")
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.approve_batch(batch, actor=world.treasurer2)
    output = tmp_path / "pain001.xml"
    call_command(
        "payout_file", batch=str(batch.pk), output=str(output), user=world.treasurer.username
    )
    assert pain001.schema().validate(etree.parse(str(output)))
    with pytest.raises(CommandError, match="No payment batch"):
        call_command("payout_file", batch="999999", output=str(output), user="x")
    # Without --user the approving treasurer exports; the same bytes come out again.
    again = tmp_path / "again.xml"
    call_command("payout_file", batch=batch.message_id, output=str(again))
    assert again.read_bytes() == output.read_bytes()


def test_an_unapproved_batch_is_not_written(world, tmp_path):
    app = _scheduled(world, "100")
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    output = tmp_path / "pain001.xml"
    with pytest.raises(CommandError, match="approved"):
        call_command(
            "payout_file", batch=str(batch.pk), output=str(output), user=world.treasurer.username
        )
    assert not output.exists()


def test_payout_vouchers_are_not_reversed_by_hand(world):
    app = world.to_paid(world.new_application("100"))
    voucher = PaymentOrder.objects.get(application=app).voucher
    with pytest.raises(ValidationFailed, match="through its payment order"):
        ledger.reverse_voucher(voucher, actor=world.treasurer)


def test_fund_report_shows_balance_commitments_and_available(world, django_assert_num_queries):
    from tests.accounting.conftest import new_fund

    world.to_paid(world.new_application("1000"))
    world.to_approved(world.new_application("500"))
    for n in range(4):  # more funds, same number of queries
        other = new_fund(world, f"other{n}")
        ledger.record_income(other, "10", kind="donation", actor=world.treasurer, reference="O-1")
    with django_assert_num_queries(9):
        rows = {row.code: row for row in fund_report()}
    assert rows["other3"].balance == Decimal("10.00")
    row = rows[world.fund.code]
    # Both decided grants are costs in the balance (issue #16: obligations when decided).
    assert row.balance == ledger.fund_balance(world.fund).amount == Decimal("998500.00")
    assert row.open_commitments == Decimal("500.00")
    assert row.paid_this_year == Decimal("1000.00")
    assert row.available == Decimal("998500.00")
    call_command("fund_report")


def test_camt054_books_payouts_on_the_booking_date_and_returns_fail(world, tmp_path):
    from django.utils import timezone

    paid_app = _scheduled(world, "100")
    returned_app = _scheduled(world, "200")
    world.send_payouts(paid_app, returned_app)
    paid_order = PaymentOrder.objects.get(application=paid_app)
    returned_order = PaymentOrder.objects.get(application=returned_app)
    today = timezone.localdate()
    file = tmp_path / "camt054.xml"
    file.write_bytes(_camt054([(paid_order, today, ""), (returned_order, today, "AC01")]))
    call_command("bank_status", file=str(file), user=world.treasurer.username)
    paid_order.refresh_from_db()
    returned_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID and paid_order.voucher.date == today
    assert (returned_order.status, returned_order.failure_code) == (OrderStatus.FAILED, "AC01")
    returned_app.refresh_from_db()
    assert returned_app.state == State.APPROVED
    call_command("bank_status", file=str(file), user=world.treasurer.username)
    assert Voucher.objects.filter(series="C").count() == 1


def test_pain002_group_rejection_fails_every_order_of_the_batch(world):
    apps = [_scheduled(world, "100"), _scheduled(world, "200")]
    batch = world.send_payouts(*apps)
    content = _pain002(batch, []).replace(
        b"<OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>",
        b"<OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>"
        b"<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf>",
    )
    content = content.replace(
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch.message_id}</OrgnlPmtInfId>"
        "</OrgnlPmtInfAndSts>".encode(),
        b"",
    )
    report = import_pain002(content, actor=world.treasurer)
    assert report.failed == 2
    assert set(batch.orders.values_list("failure_code", flat=True)) == {"AM04"}
    for app in apps:
        app.refresh_from_db()
        assert app.state == State.APPROVED


def test_admin_pages_for_chart_vouchers_and_batches_open(world, client):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("root", "root@example.org", "a-long-password-1")
    sign_in(client, admin)
    app = world.to_paid(world.new_application("100"))
    batch = PaymentOrder.objects.get(application=app).batch
    voucher = PaymentOrder.objects.get(application=app).voucher
    for url in (
        "/admin/accounting/account/",
        "/admin/accounting/voucher/",
        f"/admin/accounting/voucher/{voucher.pk}/change/",
        "/admin/accounting/paymentbatch/",
        f"/admin/accounting/paymentbatch/{batch.pk}/change/",
        "/admin/accounting/payee/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"Hemliga" not in client.get("/admin/accounting/payee/").content


def test_payees_for_unknown_items_or_unknown_payees_are_refused(world):
    app = world.to_approved(world.new_application("100"))
    with pytest.raises(ValidationFailed, match="not to be paid: 999999"):
        world.run(app, "schedule_payout", world.treasurer, payees={999999: 1})
    with pytest.raises(ValidationFailed, match="there is no payee not-an-id"):
        world.run(app, "schedule_payout", world.treasurer, payee="not-an-id")
