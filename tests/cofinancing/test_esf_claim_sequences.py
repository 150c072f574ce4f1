"""Review 16b: ESF claims, cost corrections and the ESF income driven as sequences.

Hand-computed on the seed (cofinancing/demo.py, see tests/cofinancing/test_esf_claims.py):
rate 48 %, project 2005-09-01 - 2007-12-31, claims 1 + 2 = 738 994.32 (to 2006-12-31),
entitlement to 2007-06-30 = 48 % of 1 640 971.50 = 787 666.32, to the end 802 786.32.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.test import override_settings

from accounting.ledger import reverse_voucher
from accounting.models import Account, AccountType, Posting, Voucher
from cofinancing.demo import seed_cofinancing
from cofinancing.esf_claims import record_esf_claim
from cofinancing.esf_income import accrue_esf_income, esf_entitlement
from cofinancing.esf_ledger import esf_ledger
from cofinancing.models import EsfClaim, Project
from cofinancing.report import build_report
from core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

WHOLE = (dt.date(2005, 9, 1), dt.date(2007, 12, 31))


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


def test_claims_above_the_entitlement_after_a_cost_correction_are_an_error_in_the_report(
    project: Project,
    world,  # type: ignore[no-untyped-def]
) -> None:
    """Claims 1 + 2 ask for 738 994.32. The 2006 salaries (7010 400 000 + 7510 125 680 =
    525 680, indirect 15 % = 78 852) are then found ineligible and reversed on 2007-03-31:
    the eligible cost to 2007-06-30 is 1 640 971.50 - 604 532 = 1 036 439.50, entitling to
    48 % = 497 490.96. The project has claimed 241 503.36 more than its costs entitle it to;
    an ESF controller would refuse a report that does not say so."""
    salaries = Voucher.objects.get(text="Löner jan-apr 2006 projekt")
    reverse_voucher(salaries, actor=world.treasurer, date=dt.date(2007, 3, 31))
    assert esf_entitlement(project, dt.date(2007, 6, 30)) == D("497490.96")

    report = build_report(project, dt.date(2007, 1, 1), dt.date(2007, 6, 30))

    assert (report.esf.entitled, report.esf.claimed) == (D("497490.96"), D("738994.32"))
    assert [f for f in report.errors if "241503.36" in f.message], report.findings


def test_the_final_claim_is_corrected_in_a_later_claim(project: Project, world) -> None:  # type: ignore[no-untyped-def]
    """Claim 3 asks for the rest, 63 792.00, up to the project's end (802 786.32 in all).
    The controller then disallows 1 000.00: "a correction is a later claim whose amount may be
    negative" (esf_claims.py) - but every later claim must end after 2007-12-31 and not after
    the project's end, and a claim for the same period is "already recorded"."""
    record_esf_claim(
        project,
        actor=world.treasurer,
        period_to=dt.date(2007, 12, 31),
        amount="63792.00",
        submitted_on=dt.date(2008, 2, 15),
        reference="ESF-ANS-3",
    )
    try:
        record_esf_claim(
            project,
            actor=world.treasurer,
            period_to=dt.date(2007, 12, 31),
            amount="-1000.00",
            submitted_on=dt.date(2008, 6, 1),
            reference="ESF-ANS-4",
        )
    except ValidationFailed as refused:  # the refusal is the defect shown
        raise AssertionError(f"the correction was refused: {refused}") from refused

    assert EsfClaim.objects.filter(project=project).count() == 4
    # Claims count in a report that ends after they were submitted (here mid-2008).
    report = build_report(project, WHOLE[0], dt.date(2008, 6, 30))
    assert report.esf.claimed == D("801786.32")
    correction = EsfClaim.objects.get(project=project, number=4)
    assert (correction.period_from, correction.period_to) == (
        dt.date(2007, 1, 1),
        dt.date(2007, 12, 31),
    )


def test_a_cost_disallowed_after_the_projects_end_lowers_the_esf_entitlement(
    project: Project,
    world,  # type: ignore[no-untyped-def]
) -> None:
    """The 2006 evaluation consultant (6550, 85 000, no indirect share) is disallowed at the
    final audit in 2008; the years 2005-2007 being closed, the reversal is dated 2008-03-31.
    Entitlement at the end: 48 % of (1 672 471.50 - 85 000) = 761 986.32, not 802 786.32,
    and the income accrued to the end follows it."""
    consultant = Voucher.objects.get(text="Konsult utvärdering projekt")
    reverse_voucher(consultant, actor=world.treasurer, date=dt.date(2008, 3, 31))

    assert esf_entitlement(project, project.end) == D("761986.32")
    report = build_report(project, *WHOLE)
    assert report.total_cost.cumulative == D("1587471.50")


def test_remapping_the_esf_income_account_waits_for_the_year_end_and_books_nothing_meanwhile(
    project: Project,
    world,  # type: ignore[no-untyped-def]
) -> None:
    """738 994.32 is accrued on 3981 in 2005 and 2006, both open. Mapping ``grant_eu`` to
    the foundation's own 3980 is refused (remap after the year-end), and while the settings
    say 3980 no ESF income is booked at all: the accrual to 2007-06-30 is refused rather than
    booking 787 666.32 again on 3980."""
    from accounting.chart import apply_mapping

    Account.objects.create(number="3980", name="EU-bidrag (egen)", type=AccountType.INCOME)
    with override_settings(LEDGER_ACCOUNTS={"grant_eu": "3980"}):
        with pytest.raises(ValidationFailed) as refused:
            apply_mapping(actor=world.treasurer)
        assert refused.value.messages == [
            "grant_eu: account 3981 has postings in 2005, 2006, not closed yet; remap after "
            "that year-end, so that a year is booked on one account."
        ]
        with pytest.raises(ValidationFailed, match="grant_eu 3981 -> 3980"):
            accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2007, 6, 30))
    assert not Posting.objects.filter(account__number="3980").exists()
    assert esf_ledger(project).recognised == D("738994.32")


def test_remapping_the_esf_income_account_after_the_year_end_does_not_book_the_income_again(
    project: Project,
    world,  # type: ignore[no-untyped-def]
) -> None:
    """2005 and 2006 closed and locked, then ``grant_eu`` moves to 3980. Accruing to
    2007-06-30 books 48 672.00 (787 666.32 - 738 994.32) on 3980, not 787 666.32 again: the
    ESF ledger reads the income of 2005-2006 on 3981 too."""
    from accounting.chart import apply_mapping
    from tests.accounting.test_year_end import _close

    _close(world, 2005)
    _close(world, 2006)
    Account.objects.create(number="3980", name="EU-bidrag (egen)", type=AccountType.INCOME)
    with override_settings(LEDGER_ACCOUNTS={"grant_eu": "3980"}):
        apply_mapping(actor=world.treasurer)
        voucher = accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2007, 6, 30))
        assert voucher is not None
        income = sum(
            (p.amount.amount for p in voucher.postings.all() if p.account.number == "3980"),
            D("0"),
        )
        assert income == D("-48672.00")
        assert esf_ledger(project).recognised == D("787666.32")
