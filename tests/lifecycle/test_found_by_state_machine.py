"""Issue #13: what the money-path state machine found, each shrunk to a plain test.

Each test is the sequence Hypothesis shrank a failing example to
(``tests/lifecycle/test_money_path_state_machine.py``), written with the ``world`` fixture.
Each failed on the code before its fix.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from accounting.bank_status import import_camt054
from accounting.models import OrderStatus, PaymentOrder
from core.exceptions import PermissionDenied, ValidationFailed
from fund.models import OmbudStatus
from fund.privacy import read_personal_data
from fund.services import set_ombud_status
from tests.fixtures import World
from tests.lifecycle.model import CamtTx, camt054
from workflows import services
from workflows.assignment import assign_officer
from workflows.services import NeedInput

pytestmark = pytest.mark.django_db


def test_revoked_ombud_loses_case_scope_at_once(world: World) -> None:
    """Found as: create_case(ombud) -> revoke_ombud(admin) -> read_person(ombud)."""
    app = world.new_application("1500")
    set_ombud_status(world.ombud, actor=world.admin, status=OmbudStatus.REVOKED)
    revoked = User.objects.get(pk=world.ombud.user_id)  # as the next request would load them
    with pytest.raises(PermissionDenied):
        read_personal_data(app.beneficiary, actor=revoked, application=app)


def test_protected_identity_is_read_only_with_a_logged_grant(world: World) -> None:
    """Found as: create_case(protected person) -> advance (request_attestation assigns the
    officer) -> read_person(officer)."""
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Skyddad Person", protected_identity=True, region="AB"
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[NeedInput(category="glasses", amount="1500")],
    )
    app = world.run(app, "submit", world.ombud.user)
    app = assign_officer(
        app, actor=world.officer, officer=world.officer
    )  # the officer names themselves
    with pytest.raises(PermissionDenied):
        read_personal_data(person, actor=world.officer, application=app)


def test_pending_bank_entry_is_not_booked_as_paid(world: World) -> None:
    """Found as: advance (a case paid out in a sent file) -> bank_debit_notification(booked=False,
    coded_status=True) -> the order is booked although the bank only has it pending."""
    app = world.run(
        world.to_approved(world.new_application("1500")), "schedule_payout", world.treasurer
    )
    world.send_payouts(app)
    order = PaymentOrder.objects.get(application=app)
    pending = [("<Sts><Cd>PDNG</Cd></Sts>", [CamtTx(order.pk, order.amount.amount)])]
    import_camt054(camt054(pending, timezone.localdate().isoformat()), actor=world.treasurer)
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED


def test_yearly_limit_counts_the_person_under_every_registration(world: World) -> None:
    """Found as: create_case(person 2) -> create_case(person 2, register_again=True) -> both
    advanced to approved: 3,000 + 4,500 kr against the budget fund's 7,000 kr limit."""

    def case_for(registration: Any, *amounts: str) -> Any:
        items = [NeedInput(category="glasses", amount=a) for a in amounts]
        app = services.create_application(
            actor=world.ombud.user, fund=world.fund, beneficiary=registration, items=items
        )
        return world.to_decision(app)

    def register() -> Any:
        return services.register_beneficiary(
            actor=world.ombud.user,
            name="Testa Testsson",
            personal_number="198112189876",
            region="AB",
        )

    first = world.run(case_for(register(), "20000", "20000"), "approve", world.decider)
    world.run(first, "approve", world.decider2)  # 40,000 kr of the 60,000 kr limit
    again = case_for(register(), "20000", "10000")  # the same personnummer, registered anew
    with pytest.raises(ValidationFailed):
        world.run(again, "approve", world.decider)
