"""Issue #16: a payout that cannot be made is given up, and the case closes.

A case paid in part, or whose payout failed and cannot be made (payee unreachable, need met
otherwise, the person declined), could not end: withdrawal is refused once anything is paid,
so its remaining commitments and their liability (2890) stayed open for good. Giving up the
payout releases what is left, reverses its cost and closes the case.

The figures are computed by hand: the fund received 1 000 000,00 (the world's income); the
case has two items, 700,00 and 300,00, both decided (6710 debit 1 000 / 2890 credit 1 000).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from accounting import chart
from accounting.ledger import fund_balance
from accounting.models import Commitment, CommitmentStatus, OrderStatus, PaymentOrder, Posting
from accounting.payouts import settlement
from audit.models import AuditEvent
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    ValidationFailed,
)
from fund.models import Application
from fund.states import State
from tests.factories import UserFactory
from tests.signin import api_client, sign_in
from workflows import services

pytestmark = pytest.mark.django_db


def _orders(app: Application) -> list[PaymentOrder]:
    return list(PaymentOrder.objects.filter(application=app).order_by("need_item__position"))


def _on_fund(world, role: str) -> Decimal:  # type: ignore[no-untyped-def]
    """The fund's postings on the account of a chart role (debit +, credit -)."""
    total = Posting.objects.filter(
        fund_object__fund=world.fund, account__number=chart.account(role)
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _paid_in_part(world) -> Application:  # type: ignore[no-untyped-def]
    """Items of 700 and 300 sent to the bank: the bank rejects the 700 and pays the 300."""
    app = world.to_approved(world.new_application("700", "300"))
    world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    failed, paid = _orders(app)
    settlement.reject_orders([failed], actor=world.treasurer, reason="account_closed")
    settlement.confirm_paid([paid], actor=world.treasurer)
    app.refresh_from_db()
    assert app.state == State.APPROVED  # the failed item waits to be scheduled again
    return app


def _failed_in_full(world) -> Application:  # type: ignore[no-untyped-def]
    app = world.to_approved(world.new_application("700", "300"))
    app = world.run(app, "schedule_payout", world.treasurer)
    world.run(app, "payout_failed", world.treasurer, reason="wrong_account")
    app.refresh_from_db()
    return app


# --- what giving up does ------------------------------------------------------------------


def test_payout_given_up_releases_the_unpaid_item_and_reverses_its_liability_and_cost(world):
    app = _paid_in_part(world)
    failed, paid = _orders(app)

    world.run(app, "give_up_payout", world.officer, reason="payee_unreachable")

    app.refresh_from_db()
    assert app.state == State.CLOSED
    released = Commitment.objects.get(need_item=failed.need_item)
    assert released.status == CommitmentStatus.RELEASED
    assert released.close_reason == "payout_given_up"
    assert released.released_by is not None
    assert Commitment.objects.get(need_item=paid.need_item).status == CommitmentStatus.EXPENSED
    # 2890: credit 1 000 at the decision, debit 300 at payout, debit 700 at the release.
    assert _on_fund(world, "grants_payable") == Decimal("0.00")
    # 6710: debit 1 000 at the decision, credit 700 at the release: the paid item only.
    assert _on_fund(world, "grants_paid") == Decimal("300.00")
    assert _on_fund(world, "bank") == Decimal("999700.00")
    assert fund_balance(world.fund).amount == Decimal("999700.00")


def test_payout_given_up_after_every_order_failed_leaves_no_cost_and_no_liability(world):
    app = _failed_in_full(world)

    world.run(app, "give_up_payout", world.officer, reason="support_declined")

    app.refresh_from_db()
    assert app.state == State.CLOSED
    assert set(Commitment.objects.filter(application=app).values_list("status", flat=True)) == {
        CommitmentStatus.RELEASED
    }
    assert _on_fund(world, "grants_payable") == Decimal("0.00")
    assert _on_fund(world, "grants_paid") == Decimal("0.00")
    assert fund_balance(world.fund).amount == Decimal("1000000.00")


def test_payout_given_up_is_audited_with_its_reason_code_in_one_step(world):
    app = _paid_in_part(world)
    _failed, paid = _orders(app)

    world.run(app, "give_up_payout", world.officer, reason="need_met_elsewhere")

    step = AuditEvent.objects.filter(action="application.give_up_payout").get()
    assert step.object_ref == app.reference
    assert step.actor_role == "officer"
    assert step.payload["from"] == State.APPROVED
    assert step.payload["to"] == State.CLOSED
    assert step.payload["reason"] == "need_met_elsewhere"
    assert step.payload["paid_orders"] == [paid.pk]
    release = AuditEvent.objects.filter(action="accounting.commitments_released").get()
    assert release.payload["reason"] == "payout_given_up"
    assert release.payload["application"] == app.reference
    assert Decimal(str(release.payload["total"])) == Decimal("700.00")
    assert release.sequence < step.sequence


def test_payout_given_up_needs_a_reason_from_the_list(world):
    app = _paid_in_part(world)
    events = AuditEvent.objects.count()

    for reason in (None, "", "Personen har flyttat till Malmö"):
        with pytest.raises(ValidationFailed, match="Choose why the payout is given up"):
            world.run(app, "give_up_payout", world.officer, reason=reason)

    app.refresh_from_db()
    assert app.state == State.APPROVED
    assert Commitment.objects.filter(application=app, status=CommitmentStatus.OPEN).count() == 1
    assert AuditEvent.objects.count() == events


# --- refusals ---------------------------------------------------------------------------


def test_payout_cannot_be_given_up_while_an_order_is_at_the_bank(world):
    app = world.to_approved(world.new_application("700", "300"))
    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)

    with pytest.raises(ConflictError, match="no longer possible"):
        world.run(app, "give_up_payout", world.officer, reason="payee_unreachable")
    assert "give_up_payout" not in services.available_transitions(app, actor=world.officer)


def test_payout_cannot_be_given_up_while_a_scheduled_order_is_left_on_an_approved_case(world):
    """Defence in depth: should a case ever be back in ``approved`` with an order still
    scheduled (the first build's double payments began so), giving up is refused."""
    app = world.to_approved(world.new_application("700", "300"))
    world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    failed, _paid = _orders(app)
    settlement.reject_orders([failed], actor=world.treasurer, reason="account_closed")
    Application.objects.filter(pk=app.pk).update(state=State.APPROVED)
    app.refresh_from_db()

    with pytest.raises(ValidationFailed, match="waiting for the bank"):
        world.run(app, "give_up_payout", world.officer, reason="payee_unreachable")
    assert Commitment.objects.filter(application=app, status=CommitmentStatus.OPEN).count() == 2


def test_payout_never_tried_cannot_be_given_up_the_application_is_withdrawn_instead(world):
    app = world.to_approved(world.new_application("700"))

    assert "give_up_payout" not in services.available_transitions(app, actor=world.officer)
    with pytest.raises(ValidationFailed, match="withdraw"):
        world.run(app, "give_up_payout", world.officer, reason="payee_unreachable")
    app.refresh_from_db()
    assert app.state == State.APPROVED


@pytest.mark.parametrize("who", ["ombud", "treasurer", "decider", "auditor", "admin", "outsider"])
def test_only_an_officer_working_in_the_fund_may_give_up_a_payout(world, who):
    app = _paid_in_part(world)
    user = {
        "ombud": world.ombud.user,
        "outsider": UserFactory(roles=["officer"]),  # an officer, not in this fund
    }.get(who) or getattr(world, who)

    assert "give_up_payout" not in services.available_transitions(app, actor=user)
    with pytest.raises(PermissionDenied):
        world.run(app, "give_up_payout", user, reason="payee_unreachable")
    app.refresh_from_db()
    assert app.state == State.APPROVED


def test_officer_is_offered_to_give_up_a_payout_paid_in_part(world):
    app = _paid_in_part(world)

    assert "give_up_payout" in services.available_transitions(app, actor=world.officer)
    assert "give_up_payout" in services.available_transitions(app, actor=world.officer2)


# --- pages and API ------------------------------------------------------------------------


def test_case_page_gives_up_a_payout_only_when_the_officer_confirms(world):
    app = _paid_in_part(world)
    officer = sign_in(Client(), world.officer)
    url = reverse("web:application_transition", args=[app.reference, "give_up_payout"])

    page = officer.get(reverse("web:application", args=[app.reference])).content.decode()
    assert f'action="{url}"' in page
    assert 'name="confirmed"' in page

    officer.post(url, {"reason": "payee_unreachable"})
    app.refresh_from_db()
    assert app.state == State.APPROVED  # not confirmed: nothing happened

    officer.post(url, {"reason": "payee_unreachable", "confirmed": "on"})
    app.refresh_from_db()
    assert app.state == State.CLOSED
    assert OrderStatus.FAILED in {o.status for o in _orders(app)}


def test_case_page_offers_to_give_up_a_payout_in_swedish(world):
    app = _paid_in_part(world)
    officer = sign_in(Client(), world.officer)
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"

    page = officer.get(reverse("web:application", args=[app.reference])).content.decode()

    assert "Avbryt utbetalningen och avsluta ärendet" in page
    assert "Varför avbryts utbetalningen?" in page
    assert "Betalningsmottagaren går inte att nå eller betala" in page


def test_withdrawal_of_a_case_paid_in_part_points_to_giving_up_the_payout(world):
    app = _paid_in_part(world)

    assert "withdraw" not in services.available_transitions(app, actor=world.officer)
    with pytest.raises(ValidationFailed, match="can be given up by an officer"):
        world.run(app, "withdraw", world.officer, reason="applicant_request")


def test_api_gives_up_a_payout(world):
    app = _paid_in_part(world)
    url = f"/api/v1/applications/{app.reference}/transitions/"
    officer = api_client(world.officer)

    assert "give_up_payout" in officer.get(url).json()["transitions"]
    response = officer.post(f"{url}give_up_payout/", {"reason": "payee_unreachable"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "closed"
