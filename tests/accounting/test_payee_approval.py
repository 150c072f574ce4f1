"""Four eyes on where money goes: a new payee needs a second treasurer, and whoever
registered a payee or scheduled an order may not approve the batch that pays it (issue #13,
defect 10). Payees are never edited: the database refuses it on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounting.models import Payee, PaymentBatch, PaymentOrder
from accounting.payees import approve_payee, create_payee, deactivate_payee
from accounting.payouts import batches
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from privacy.erasure import erase_person
from tests.factories import UserFactory
from tests.fixtures import World

pytestmark = pytest.mark.django_db


def _supplier(world: World, registrar: Any = None) -> Payee:
    return create_payee(
        actor=registrar or world.treasurer,
        kind="supplier",
        name="Optikern AB",
        method="bankgiro",
        account="991-2346",
    )


def _legacy_order(world: World, payee: Payee) -> PaymentOrder:
    """An order from before payee approval existed: scheduled, its payee unapproved."""
    approved = approve_payee(_supplier(world), actor=world.treasurer2)
    app = world.to_approved(world.new_application("400"))
    world.run(app, "schedule_payout", world.treasurer, payee=approved.pk)
    order = PaymentOrder.objects.get(application=app)
    PaymentOrder.objects.filter(pk=order.pk).update(payee=payee, scheduled_by=None)
    return PaymentOrder.objects.get(pk=order.pk)


def test_the_registrar_cannot_approve_their_own_payee(world: World) -> None:
    payee = _supplier(world)
    with pytest.raises(PermissionDenied, match="You registered this payee"):
        approve_payee(payee, actor=world.treasurer)
    with pytest.raises(PermissionDenied):
        approve_payee(payee, actor=world.officer)
    assert Payee.objects.get(pk=payee.pk).approved_by_id is None
    approved = approve_payee(payee, actor=world.treasurer2)
    assert (approved.registered_by, approved.approved_by) == (world.treasurer, world.treasurer2)
    assert approved.approved_at is not None
    event = AuditEvent.objects.get(action="payout.payee_approved", object_ref=payee.reference)
    assert event.actor_id == world.treasurer2.pk
    assert event.payload == {"payee": payee.pk, "registered_by": world.treasurer.pk}


def test_the_database_keeps_registrar_and_approver_different(world: World) -> None:
    payee = _supplier(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payee.objects.filter(pk=payee.pk).update(
            approved_by=world.treasurer, approved_at=timezone.now()
        )


def test_an_unapproved_payee_cannot_be_scheduled(world: World) -> None:
    payee = _supplier(world)
    app = world.to_approved(world.new_application("400"))
    with pytest.raises(ValidationFailed, match="awaiting a second treasurer's approval"):
        world.run(app, "schedule_payout", world.treasurer, payee=payee.pk)
    assert not PaymentOrder.objects.filter(application=app).exists()


def test_an_unapproved_payee_cannot_be_batched(world: World) -> None:
    order = _legacy_order(world, _supplier(world))
    with pytest.raises(ValidationFailed, match="awaiting a second treasurer's approval"):
        batches.create_batch(actor=world.treasurer, orders=[order])
    assert not PaymentBatch.objects.exists()


def test_an_unapproved_payee_cannot_be_exported(world: World) -> None:
    approved = approve_payee(_supplier(world), actor=world.treasurer2)
    app = world.to_approved(world.new_application("400"))
    world.run(app, "schedule_payout", world.treasurer, payee=approved.pk)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.approve_batch(batch, actor=world.treasurer2)
    # Approved batches from before payee approval existed may point to unapproved payees.
    PaymentOrder.objects.filter(batch=batch).update(payee=_supplier(world))
    with pytest.raises(ValidationFailed, match="awaiting a second treasurer's approval"):
        batches.export_batch(batch, actor=world.treasurer)
    batch.refresh_from_db()
    assert batch.exported_at is None


def test_whoever_registered_a_payee_in_the_batch_cannot_approve_it(world: World) -> None:
    registrar, scheduler, creator = (UserFactory(roles=["treasurer"]) for _ in range(3))
    payee = approve_payee(_supplier(world, registrar), actor=world.treasurer2)
    app = world.to_approved(world.new_application("400"))
    world.run(app, "schedule_payout", scheduler, payee=payee.pk)
    batch = batches.create_batch(actor=creator, applications=[app])
    with pytest.raises(PermissionDenied, match="You registered a payee in this batch"):
        batches.approve_batch(batch, actor=registrar)
    batches.approve_batch(
        batch, actor=world.treasurer2
    )  # approved the payee: may approve the batch
    batch.refresh_from_db()
    assert batch.approved_by == world.treasurer2


def test_whoever_scheduled_an_order_in_the_batch_cannot_approve_it(world: World) -> None:
    app = world.to_approved(world.new_application("400"))
    order = world.run(app, "schedule_payout", world.treasurer2).payment_orders.get()
    assert order.scheduled_by == world.treasurer2
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    with pytest.raises(PermissionDenied, match="You scheduled a payment order in this batch"):
        batches.approve_batch(batch, actor=world.treasurer2)
    batches.approve_batch(batch, actor=UserFactory(roles=["treasurer"]))


def test_the_registrar_and_scheduler_cannot_approve_the_batch_with_a_colleague(
    world: World,
) -> None:
    """The issue's scenario: one treasurer registers a payee, schedules a case to it and
    has a colleague create the batch; the database let them approve it themselves."""
    rogue = UserFactory(roles=["treasurer"])
    payee = approve_payee(_supplier(world, rogue), actor=world.treasurer2)
    app = world.to_approved(world.new_application("400"))
    world.run(app, "schedule_payout", rogue, payee=payee.pk)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    with pytest.raises(PermissionDenied):
        batches.approve_batch(batch, actor=rogue)
    assert PaymentBatch.objects.get(pk=batch.pk).approved_by is None


def test_an_old_order_without_scheduler_is_checked_against_the_audit_log(world: World) -> None:
    approved = approve_payee(_supplier(world), actor=world.treasurer2)
    app = world.to_approved(world.new_application("400"))
    world.run(app, "schedule_payout", world.treasurer2, payee=approved.pk)
    PaymentOrder.objects.filter(application=app).update(scheduled_by=None)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    with pytest.raises(PermissionDenied, match="You scheduled a payment order in this batch"):
        batches.approve_batch(batch, actor=world.treasurer2)


def test_the_database_refuses_a_raw_update_of_a_payees_account(world: World) -> None:
    payee = approve_payee(_supplier(world), actor=world.treasurer2)
    changes: list[dict[str, Any]] = [
        {"account": "56781230"},
        {"bic": "ESSESESS"},
        {"method": "plusgiro"},
        {"clearing_number": "6789"},
        {"name": "Skurken AB"},
        {"kind": "organisation"},
        {"organisation": world.ombud.organisation},
        {"registered_by": world.treasurer2},
        {"approved_by": world.admin},
        {"account": "", "active": False},  # erasure blanks a person's payee only
    ]
    for change in changes:
        with pytest.raises(IntegrityError, match="never edited"), transaction.atomic():
            Payee.objects.filter(pk=payee.pk).update(**change)
    deactivate_payee(payee, actor=world.treasurer)
    with pytest.raises(IntegrityError, match="never edited"), transaction.atomic():
        Payee.objects.filter(pk=payee.pk).update(active=True)
    stored = Payee.objects.get(pk=payee.pk)
    assert (stored.account, stored.name, stored.active) == ("9912346", "Optikern AB", False)


def test_a_person_payee_must_name_the_person(world: World) -> None:
    with pytest.raises(ValidationFailed, match="Choose the person this payee is"):
        create_payee(
            actor=world.treasurer,
            kind="person",
            person_name="Annan Person",
            method="bank_account",
            clearing_number="6789",
            account="123456703",
        )
    assert not Payee.objects.filter(kind="person").exists()


def test_a_person_payee_naming_no_person_is_never_scheduled(world: World) -> None:
    """Rows registered before the person was required escape erasure: never pay them."""
    app = world.to_approved(world.new_application("500"))
    nameless = Payee(
        reference="P-2026-999999",
        kind="person",
        method="bankgiro",
        registered_by=world.treasurer,
    )
    nameless.set_personal_data({"account": "9912346"})
    nameless.save()  # a payee is never inserted approved (the payee guard): approved after
    nameless.approved_by, nameless.approved_at = world.treasurer2, timezone.now()
    nameless.set_personal_data({**nameless.own_personal_data(), "approved_by": world.treasurer2.pk})
    nameless.save()
    with pytest.raises(ValidationFailed, match="names no person"):
        world.run(app, "schedule_payout", world.treasurer, payee=nameless.pk)


def test_erasure_still_blanks_an_approved_person_payee(world: World) -> None:
    app = world.run(
        world.new_application("500", name="Maria Hemlig"),
        "withdraw",
        world.ombud.user,
        reason="other",
    )
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name="Maria Hemlig",
        method="iban",
        account="SE3250000000000058398250",
        bic="ESSESESS",
        beneficiary=app.beneficiary,
    )
    approve_payee(payee, actor=world.treasurer2)
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    stored = Payee.objects.get(pk=payee.pk)
    assert (stored.account, stored.bic, stored.wrapped_key, stored.active) == ("", "", "", False)


def test_the_registrars_refusal_speaks_swedish(world: World) -> None:
    from django.utils import translation

    payee = _supplier(world)
    with translation.override("sv"), pytest.raises(PermissionDenied) as refusal:
        approve_payee(payee, actor=world.treasurer)
    assert refusal.value.messages == [
        "Du registrerade denna betalningsmottagare; en annan kassör måste godkänna den."
    ]


def test_approving_again_changes_nothing_and_an_inactive_payee_is_not_approved(
    world: World,
) -> None:
    payee = approve_payee(_supplier(world), actor=world.treasurer2)
    other = UserFactory(roles=["treasurer"])
    assert approve_payee(payee, actor=other).approved_by == world.treasurer2
    events = AuditEvent.objects.filter(action="payout.payee_approved", object_ref=payee.reference)
    assert events.count() == 1
    closed = deactivate_payee(_supplier(world), actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="is not active and cannot be approved"):
        approve_payee(closed, actor=world.treasurer2)
