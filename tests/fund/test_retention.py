"""The hold follows the vouchers, not the cases (issue #14, defect 5).

Bookkeeping law keeps vouchers, not identities: a person none of whose cases produced a voucher
can be erased once their last case is closed and the time to ask for omprövning has run; a
person with vouchers is held until the end of the seventh year after the calendar year in which
the fiscal year of the last voucher ended (bokföringslagen 7 kap. 2 §).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.bank_exceptions import resolve_bank_exception
from accounting.bank_status import import_camt054, import_pain002
from accounting.ledger import Line, post_voucher, reverse_voucher
from accounting.models import (
    BankException,
    Commitment,
    CommitmentStatus,
    FiscalYear,
    PaymentOrder,
    Period,
    VoucherSeries,
)
from core.exceptions import ValidationFailed
from fund.models import Application, Beneficiary
from fund.states import State
from privacy.erasure import erase_person
from privacy.retention import retention_of
from tests.accounting.bank_files import camt054, pain002
from workflows.models import Obligation

NAME = "Vera Vouchersdottir"


def _closed_on(app: Application) -> date:
    app.refresh_from_db()
    assert app.state_changed_at is not None
    return timezone.localtime(app.state_changed_at).date()


def _person(app: Application) -> Beneficiary:
    return Beneficiary.objects.get(pk=app.beneficiary_id)


def _sent(world, *amounts: str) -> tuple[Application, PaymentOrder]:
    app = world.new_application(*amounts, name=NAME)
    app = world.run(world.to_approved(app), "schedule_payout", world.treasurer)
    world.send_payouts(app)
    return app, PaymentOrder.objects.get(application=app)


def _paid_and_closed(world, booked_on: date) -> Application:
    """A case paid by the bank's own word on ``booked_on``, then closed."""
    app, order = _sent(world, "500")
    import_camt054(camt054([(order, booked_on.isoformat(), "")]), actor=world.treasurer)
    app.refresh_from_db()
    assert app.state == State.PAID
    return world.run(app, "close", world.officer)


def _open_broken_fiscal_year(start: date) -> FiscalYear:
    """A July-June fiscal year with its twelve periods, as a foundation with a broken year has."""
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    year = FiscalYear.objects.create(start=start, end=end)
    first = start
    while first < end:
        last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        Period.objects.create(fiscal_year=year, start=first, end=last)
        first = last + timedelta(days=1)
    return year


def test_a_rejected_never_paid_person_is_erasable_once_the_time_for_omprovning_has_run(world):
    app = world.run(
        world.to_decision(world.new_application("500", name=NAME)),
        "reject",
        world.decider,
        reason="need_not_shown",
    )
    closed = _closed_on(app)
    last_day = closed + timedelta(days=21)

    held = retention_of(_person(app), today=last_day)
    assert not held.due and held.hold_until == last_day
    assert "omprövning" in held.reason.lower() and last_day.isoformat() in held.reason
    with pytest.raises(ValidationFailed, match="cannot be erased yet"):
        erase_person(_person(app), actor=world.admin, today=last_day)

    day_after = last_day + timedelta(days=1)
    assert retention_of(_person(app), today=day_after).due
    assert erase_person(_person(app), actor=world.admin, today=day_after).is_erased


def test_the_time_for_omprovning_is_the_reconsideration_window_setting(world, settings):
    settings.RECONSIDERATION_WINDOW_DAYS = 30
    app = world.run(
        world.to_decision(world.new_application("500", name=NAME)),
        "reject",
        world.decider,
        reason="need_not_shown",
    )
    last_day = _closed_on(app) + timedelta(days=30)
    assert not retention_of(_person(app), today=last_day).due
    assert retention_of(_person(app), today=last_day + timedelta(days=1)).due


def test_a_referred_or_withdrawn_person_without_vouchers_is_not_held_for_seven_years(world):
    withdrawn = world.run(
        world.new_application("500", name=NAME),
        "withdraw",
        world.ombud.user,
        reason="applicant_request",
    )
    referred = world.to_statutory_check(world.new_application("500", name=NAME))
    world.assess_all(
        referred, outcome=Obligation.OBLIGED, authority="social_services", legal_basis="sol_4_1"
    )
    referred = world.run(referred, "refer", world.officer)
    for app in (withdrawn, referred):
        after = _closed_on(app) + timedelta(days=22)
        retention = retention_of(_person(app), today=after)
        assert retention.due and retention.hold_until == after - timedelta(days=1)


def test_omprovning_is_refused_once_the_person_is_erased(world):
    app = world.run(
        world.to_decision(world.new_application("500", name=NAME)),
        "reject",
        world.decider,
        reason="need_not_shown",
    )
    erase_person(_person(app), actor=world.admin, today=_closed_on(app) + timedelta(days=22))
    with pytest.raises(ValidationFailed, match="erased"):
        world.run(app, "reconsider", world.decider2)
    app.refresh_from_db()
    assert app.state == State.REJECTED


def test_no_new_case_is_opened_for_an_erased_person(world):
    """An erased registration has no index left: the yearly limit could not see their grants."""
    from workflows import services

    app = world.run(
        world.to_decision(world.new_application("500", name=NAME)),
        "reject",
        world.decider,
        reason="need_not_shown",
    )
    person = erase_person(
        _person(app), actor=world.admin, today=_closed_on(app) + timedelta(days=22)
    )
    with pytest.raises(ValidationFailed, match="register the person anew"):
        services.create_application(
            actor=world.ombud.user,
            fund=world.fund,
            beneficiary=person,
            items=[services.NeedInput(category="glasses", amount="500", description="")],
        )
    assert Application.objects.filter(beneficiary=person).count() == 1


def test_a_paid_persons_hold_follows_the_fiscal_year_of_a_payout_in_january(world):
    """Decided in December, paid in January: the hold counts from the January voucher's year."""
    year = timezone.localdate().year
    app = _paid_and_closed(world, date(year + 1, 1, 12))
    voucher = PaymentOrder.objects.get(application=app).voucher
    assert voucher is not None and voucher.fiscal_year.end == date(year + 1, 12, 31)

    retention = retention_of(_person(app), today=date(year + 8, 12, 31))
    assert retention.hold_until == date(year + 8, 12, 31) and not retention.due
    assert f"{voucher.series}{voucher.number}" in retention.reason
    assert NAME not in retention.reason
    with pytest.raises(ValidationFailed, match="cannot be erased yet"):
        erase_person(_person(app), actor=world.admin, today=date(year + 8, 12, 31))
    assert erase_person(_person(app), actor=world.admin, today=date(year + 9, 1, 1)).is_erased


def test_a_paid_persons_hold_follows_a_broken_fiscal_year_not_the_calendar_year(world):
    """Paid in September of a July-June year: held to the end of the 7th year after June."""
    year = timezone.localdate().year
    broken = _open_broken_fiscal_year(date(year + 1, 7, 1))
    app = _paid_and_closed(world, date(year + 1, 9, 15))
    assert PaymentOrder.objects.get(application=app).voucher.fiscal_year == broken

    retention = retention_of(_person(app), today=date(year + 9, 12, 31))
    assert retention.hold_until == date(year + 9, 12, 31) and not retention.due
    assert retention_of(_person(app), today=date(year + 10, 1, 1)).due


def test_a_withdrawn_person_is_held_by_a_bank_exception_voucher_after_a_released_commitment(
    world,
):
    """Withdrawn after a failed payout: the released commitment is no voucher, but the
    bank's later payment of the failed order (and its resolution) are, and they hold."""
    today = timezone.localdate()
    app, order = _sent(world, "500")
    batch = order.batch
    import_pain002(pain002(batch, [(order, ("RJCT", "AC04"))]), actor=world.treasurer)
    app = world.run(
        Application.objects.get(pk=app.pk), "withdraw", world.ombud.user, reason="applicant_request"
    )
    assert Commitment.objects.get(application=app).status == CommitmentStatus.RELEASED
    assert retention_of(_person(app), today=_closed_on(app) + timedelta(days=22)).due

    import_camt054(
        camt054([(order, date(today.year + 1, 1, 20).isoformat(), "")]), actor=world.treasurer
    )
    exception = BankException.objects.get(order=order)
    retention = retention_of(_person(app), today=date(today.year + 8, 12, 31))
    assert retention.hold_until == date(today.year + 8, 12, 31) and not retention.due
    assert f"{exception.voucher.series}{exception.voucher.number}" in retention.reason

    resolve_bank_exception(
        exception,
        actor=world.treasurer2,
        resolution="accepted_as_grant",
        date=date(today.year + 2, 2, 1),
    )
    retention = retention_of(_person(app), today=date(today.year + 9, 1, 1))
    assert retention.hold_until == date(today.year + 9, 12, 31) and not retention.due


def test_the_hold_is_the_latest_of_all_the_persons_cases(world):
    """A paid case and a later rejection: the voucher's hold outlasts the omprövning window."""
    year = timezone.localdate().year
    paid = _paid_and_closed(world, date(year + 1, 1, 12))
    rejected = world.to_decision(world.new_application("300", name=NAME))
    rejected.beneficiary = paid.beneficiary
    rejected.save(update_fields=["beneficiary"])
    world.run(rejected, "reject", world.decider, reason="need_not_shown")
    retention = retention_of(_person(paid), today=date(year + 1, 6, 1))
    assert retention.hold_until == date(year + 8, 12, 31) and not retention.due


def test_a_manual_voucher_naming_the_case_and_its_later_reversal_hold_the_person(world):
    """A treasurer's correction names the case by reference; its reversal names only the
    voucher it reverses, and still holds the person to its own fiscal year."""
    year = timezone.localdate().year
    app = world.run(
        world.new_application("500", name=NAME), "withdraw", world.ombud.user, reason="other"
    )
    manual = post_voucher(
        series=VoucherSeries.MANUAL,
        text=f"Återbetalning {app.reference}",
        lines=[
            Line("1930", Decimal("100"), fund=world.fund),
            Line("6710", Decimal("-100"), fund=world.fund),
        ],
        actor=world.treasurer,
        date=date(year + 1, 3, 1),
    )
    assert retention_of(_person(app)).hold_until == date(year + 8, 12, 31)
    reversal = reverse_voucher(manual, actor=world.treasurer, date=date(year + 2, 3, 1))
    assert app.reference not in reversal.text
    retention = retention_of(_person(app))
    assert retention.hold_until == date(year + 9, 12, 31)
    assert f"A{reversal.number}" in retention.reason


def test_a_voucher_of_another_case_with_a_similar_reference_does_not_hold_the_person(world):
    year = timezone.localdate().year
    app = world.run(
        world.new_application("500", name=NAME), "withdraw", world.ombud.user, reason="other"
    )
    post_voucher(
        series=VoucherSeries.MANUAL,
        text=f"Återbetalning {app.reference}1",
        lines=[
            Line("1930", Decimal("100"), fund=world.fund),
            Line("6710", Decimal("-100"), fund=world.fund),
        ],
        actor=world.treasurer,
        date=date(year + 1, 3, 1),
    )
    assert retention_of(_person(app)).hold_until == _closed_on(app) + timedelta(days=21)
