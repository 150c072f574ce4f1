"""Payees: Bankgiro/Plusgiro Luhn, Swedish bank accounts, IBAN; invalid ones refused clearly."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection

from accounting import db_guards
from accounting.models import Payee, PaymentBatch
from accounting.payees import create_payee, validate_account
from accounting.payouts.batches import create_batch
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from tests.fixtures import approved_payee

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "account", "extra", "expected"),
    [
        ("bankgiro", "5678-1230", {}, "56781230"),
        ("bankgiro", "991-2346", {}, "9912346"),
        ("plusgiro", "90 20 02-5", {}, "9020025"),
        ("bank_account", "123 456 703", {"clearing_number": "6789"}, "123456703"),
        ("iban", "SE32 5000 0000 0000 5839 8250", {"bic": "ESSESESS"}, "SE3250000000000058398250"),
    ],
)
def test_valid_destinations_are_normalised(method, account, extra, expected):
    assert validate_account(method, account, **extra).account == expected


@pytest.mark.parametrize(
    ("method", "account", "extra", "message"),
    [
        ("bankgiro", "5678-1231", {}, "Bankgiro number .* wrong check digit"),
        ("bankgiro", "123", {}, "7 or 8 digits"),
        ("plusgiro", "90 20 02-4", {}, "Plusgiro number .* wrong check digit"),
        (
            "bank_account",
            "123456703",
            {"clearing_number": "0999"},
            "bank account 0999-.* not valid",
        ),
        ("bank_account", "123456704", {"clearing_number": "6789"}, "not valid"),
        ("iban", "SE33 5000 0000 0000 5839 8250", {}, "IBAN .* not valid.*checksum"),
        ("iban", "SE32 5000 0000 0000 5839 8250", {"bic": "NOPE"}, "BIC"),
    ],
)
def test_invalid_destinations_are_refused_with_the_reason(method, account, extra, message):
    with pytest.raises(ValidationFailed, match=message):
        validate_account(method, account, **extra)


def test_person_payee_name_is_encrypted_and_never_in_the_audit(world):
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name="Maria Hemlig",
        method="bank_account",
        clearing_number="6789",
        account="12345670-3",
        beneficiary=world.new_application("500", name="Maria Hemlig").beneficiary,
    )
    stored = Payee.objects.get(pk=payee.pk)
    assert stored.name == ""
    assert "Maria" not in stored.encrypted_personal_data
    assert stored.personal_data["name"] == "Maria Hemlig"
    assert stored.bank_file_name == stored.reference
    event = AuditEvent.objects.get(action="payout.payee_registered", object_ref=payee.reference)
    assert "Maria" not in str(event.payload) and "123456703" not in str(event.payload)


def test_only_a_treasurer_registers_payees(world):
    with pytest.raises(PermissionDenied):
        create_payee(
            actor=world.officer,
            kind="supplier",
            name="Optiker",
            method="bankgiro",
            account="5678-1230",
        )


def _supplier(world):  # type: ignore[no-untyped-def]
    return approved_payee(
        world.treasurer,
        world.treasurer2,
        kind="supplier",
        name="Optikern AB",
        method="bankgiro",
        account="56781230",
    )


@contextmanager
def payee_guard_lifted():  # type: ignore[no-untyped-def]
    """Someone with the database's owner rights edits a payee anyway (the test's transaction
    rolls the dropped guard back)."""
    db_guards.uninstall_payee_guard(connection)
    yield
    db_guards.install_payee_guard(connection)


def test_a_payee_corrupted_after_registration_stops_the_batch_before_it_is_made(world):
    supplier = _supplier(world)
    app = world.to_approved(world.new_application("900"))
    world.run(app, "schedule_payout", world.treasurer, payee=supplier.pk)
    with payee_guard_lifted():
        Payee.objects.filter(pk=supplier.pk).update(account="56781231")
    with pytest.raises(ValidationFailed, match="wrong check digit"):
        create_batch(actor=world.treasurer, applications=[app])
    assert not PaymentBatch.objects.exists()


def test_a_payee_corrupted_after_batching_stops_the_export(world):
    from accounting.payouts.batches import approve_batch, export_batch

    supplier = _supplier(world)
    app = world.to_approved(world.new_application("900"))
    world.run(app, "schedule_payout", world.treasurer, payee=supplier.pk)
    batch = approve_batch(
        create_batch(actor=world.treasurer, applications=[app]), actor=world.treasurer2
    )
    with payee_guard_lifted():
        Payee.objects.filter(pk=supplier.pk).update(account="56781231")
    with pytest.raises(ValidationFailed, match="wrong check digit"):
        export_batch(batch, actor=world.treasurer)
    batch.refresh_from_db()
    assert batch.exported_at is None


def test_scheduling_to_an_invalid_payee_is_refused(world):
    supplier = approved_payee(
        world.treasurer,
        world.treasurer2,
        kind="supplier",
        name="Apoteket",
        method="plusgiro",
        account="9020025",
    )
    with payee_guard_lifted():
        Payee.objects.filter(pk=supplier.pk).update(account="9020024")
    app = world.to_approved(world.new_application("900"))
    with pytest.raises(ValidationFailed, match=r"Item 1: .*wrong check digit"):
        world.run(app, "schedule_payout", world.treasurer, payee=supplier.pk)


def test_a_person_with_protected_identity_is_never_paid_directly(world):
    from workflows import services

    person = services.register_beneficiary(
        actor=world.ombud.user, name="Skyddad Person", protected_identity=True, region="AB"
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    app = world.to_approved(app)
    payee = approved_payee(
        world.treasurer,
        world.treasurer2,
        kind="person",
        person_name="Skyddad Person",
        method="bankgiro",
        account="991-2346",
        beneficiary=person,
    )
    with pytest.raises(ValidationFailed, match="protected identity"):
        world.run(app, "schedule_payout", world.treasurer, payee=payee.pk)
    world.run(app, "schedule_payout", world.treasurer)  # the ombud's organisation


def test_after_a_closed_account_the_payee_is_replaced_and_the_case_paid(world):
    from accounting.payees import deactivate_payee
    from accounting.payouts.settlement import reject_orders
    from fund.states import State

    old = Payee.objects.get(organisation=world.ombud.organisation)
    app = world.to_approved(world.new_application("300"))
    app = world.run(app, "schedule_payout", world.treasurer)
    batch = world.send_payouts(app)
    reject_orders(list(batch.orders.all()), actor=world.treasurer, code="AC04")
    deactivate_payee(old, actor=world.treasurer)
    app.refresh_from_db()
    with pytest.raises(ValidationFailed, match="choose a payee"):
        world.run(app, "schedule_payout", world.treasurer)
    approved_payee(
        world.treasurer,
        world.treasurer2,
        kind="organisation",
        name="Socialtjänsten",
        method="plusgiro",
        account="9020025",
        organisation=world.ombud.organisation,
    )
    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    app = world.run(app, "confirm_paid", world.treasurer)
    assert app.state == State.PAID
