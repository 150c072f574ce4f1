"""ESF income accrued as the eligible costs arise; money received settles the receivable.

Hand-computed on the seed (cofinancing/demo.py), rate 48 %:
  to 2005-12-31: staff 394 260 + indirect 15 % 59 139 + in kind 3 x 30 h x 350 = 31 500
                 = 484 899.00 eligible -> 232 751.52 accrued (1790 D / 3981 C)
  2006-06-10:    400 000 received: 232 751.52 settles 1790, 167 248.48 is an advance (2880 C)
  to 2006-12-31: eligible 1 305 271.50 cash + in kind 157 500 + 76 800 = 1 539 571.50
                 -> 738 994.32 entitled, 506 242.80 more: 2880 D 167 248.48, 1790 D 338 994.32
  2007 in kind:  9 x 30 x 350 + 6 x 20 x 320 = 132 900 -> 63 792.00 more (802 786.32 in all)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from accounting.models import Posting, Voucher
from audit.models import AuditEvent
from cofinancing.demo import seed_cofinancing
from cofinancing.esf_income import accrue_esf_income, receive_esf_payment
from cofinancing.esf_ledger import esf_ledger
from core.exceptions import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def _postings(voucher: Voucher) -> dict[str, D]:
    return {p.account.number: p.amount.amount for p in voucher.postings.all()}


def _voucher(text: str) -> Voucher:
    return Voucher.objects.get(text__startswith=text)


def test_esf_income_is_recognised_as_the_eligible_costs_arise_not_when_the_money_arrives() -> None:
    project = seed_cofinancing()
    first = _voucher("ESF-intäkt upplupen ESF-EQ-2005 t.o.m. 2005-12-31")
    assert _postings(first) == {"1790": D("232751.52"), "3981": D("-232751.52")}
    paid = _voucher("ESF utbetalning ESF-EQ-2005 ESF-UTB-1")
    assert _postings(paid) == {
        "1930": D("400000.00"),
        "1790": D("-232751.52"),
        "2880": D("-167248.48"),
    }
    second = _voucher("ESF-intäkt upplupen ESF-EQ-2005 t.o.m. 2006-12-31")
    assert _postings(second) == {
        "2880": D("167248.48"),
        "1790": D("338994.32"),
        "3981": D("-506242.80"),
    }
    books = esf_ledger(project)
    assert (books.recognised, books.receivable, books.advance, books.received) == (
        D("738994.32"),
        D("338994.32"),
        D("0.00"),
        D("400000.00"),
    )
    # every posting of the three on the project's dimension
    assert not Posting.objects.filter(
        voucher__in=[first, paid, second], project__isnull=True
    ).exists()


def test_accruing_twice_for_the_same_date_books_nothing_new(world) -> None:  # type: ignore[no-untyped-def]
    project = seed_cofinancing()
    count = Voucher.objects.count()
    assert accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2006, 12, 31)) is None
    assert Voucher.objects.count() == count


def test_money_received_beyond_what_is_earned_is_a_liability_released_as_costs_arise(
    world,  # type: ignore[no-untyped-def]
) -> None:
    project = seed_cofinancing()
    paid = receive_esf_payment(
        project,
        actor=world.treasurer,
        amount="500000",
        date=dt.date(2007, 1, 15),
        reference="ESF-UTB-2",
    )
    assert _postings(paid) == {
        "1930": D("500000.00"),
        "1790": D("-338994.32"),
        "2880": D("-161005.68"),
    }
    accrued = accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2007, 12, 31))
    assert accrued is not None
    assert _postings(accrued) == {"2880": D("63792.00"), "3981": D("-63792.00")}
    books = esf_ledger(project)
    assert (books.recognised, books.receivable, books.advance) == (
        D("802786.32"),
        D("0.00"),
        D("97213.68"),
    )
    event = AuditEvent.objects.filter(action="cofinancing.esf_income_accrued").last()
    assert event is not None and event.payload["accrued"] == "63792.00"


def test_only_a_treasurer_may_book_co_financing_income(world) -> None:  # type: ignore[no-untyped-def]
    project = seed_cofinancing()
    with pytest.raises(PermissionDenied):
        accrue_esf_income(project, actor=world.officer, up_to=dt.date(2007, 6, 30))
    with pytest.raises(PermissionDenied):
        receive_esf_payment(
            project, actor=world.auditor, amount="1", date=dt.date(2007, 1, 2), reference="X-1"
        )


def test_accruing_to_a_date_before_the_last_accrual_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    project = seed_cofinancing()
    with pytest.raises(ValidationFailed, match="already booked up to 2006-12-31"):
        accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2006, 6, 30))


def test_a_year_is_not_closed_with_esf_income_earned_and_not_accrued(world) -> None:  # type: ignore[no-untyped-def]
    """The seed accrues ESF income to 2006-12-31; in 2007 the partner's in-kind time earns
    63 792.00 more (see the module's docstring). Closing 2007 without that accrual would lock
    a year whose income is understated: the year-end refuses it."""
    from accounting import year_end
    from accounting.ledger import close_period, fiscal_year_for
    from accounting.models import Period

    project = seed_cofinancing()
    for year in (2005, 2006, 2007):
        fy = fiscal_year_for(dt.date(year, 1, 1))
        periods = Period.objects.filter(fiscal_year=fy).order_by("start")
        for period in periods if year < 2007 else periods.exclude(start=dt.date(2007, 12, 1)):
            close_period(period, actor=world.treasurer)
        if year < 2007:
            year_end.prepare_year_end(fy, actor=world.treasurer)
            year_end.approve_year_end(fy, actor=world.treasurer2)

    year_2007 = fiscal_year_for(dt.date(2007, 1, 1))
    with pytest.raises(ValidationFailed, match=r"ESF-EQ-2005 has earned 802786\.32 in ESF"):
        year_end.prepare_year_end(year_2007, actor=world.treasurer)

    # Accrued to the year's end (63 792.00 more: 738 994.32 -> 802 786.32), December closed,
    # the year may be closed.
    voucher = accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2007, 12, 31))
    assert voucher is not None
    assert esf_ledger(project).recognised == D("802786.32")
    close_period(Period.objects.get(start=dt.date(2007, 12, 1)), actor=world.treasurer)
    closing = year_end.prepare_year_end(year_2007, actor=world.treasurer)
    assert closing.prepared_by == world.treasurer


def test_esf_income_accrued_never_exceeds_the_decided_esf_amount(world) -> None:  # type: ignore[no-untyped-def]
    """Crafted: ESF 50 %, decided at most 1 000.00; staff costs 10 000 booked. 50 % of the
    eligible cost is 5 000, but the co-financier decided 1 000: no more is income."""
    from decimal import Decimal

    from moneyed import Money

    from accounting.ledger import Line, post_voucher
    from cofinancing.demo import project_object
    from cofinancing.models import FundingKind, FundingSource, ProgrammePeriod, Project

    project = Project.objects.create(
        code="ESF-CAP-1",
        case_number="ESF 2024-0001",
        name="Tak",
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
        programme_period=ProgrammePeriod.P2021_2027,
        esf_rate_percent=Decimal("50"),
    )
    FundingSource.objects.create(  # type: ignore[misc]  # Money into a MoneyField
        project=project,
        kind=FundingKind.ESF,
        decided_amount=Money("1000.00", "SEK"),
        decided_rate_percent=Decimal("50"),
    )
    obj = project_object(project.code, project.name)
    post_voucher(
        series="A",
        text="Löner projekt mars",
        lines=[Line("7010", D("10000"), project=obj), Line("1930", D("-10000"), project=obj)],
        actor=world.treasurer,
        date=dt.date(2024, 3, 31),
    )

    accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2024, 6, 30))

    assert esf_ledger(project).recognised == D("1000.00")
    # The report's ESF row stops at the decision too, and says why.
    from cofinancing.report import build_report

    report = build_report(project, dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert report.esf.entitled == D("1000.00")
    assert report.esf.above_decision == D("5000.00")
    esf_row = next(row for row in report.financing if row.key == FundingKind.ESF)
    assert esf_row.cumulative == D("1000.00") and esf_row.period == D("1000.00")
    assert "esf_above_decision" in {finding.code for finding in report.findings}
    assert accrue_esf_income(project, actor=world.treasurer, up_to=dt.date(2024, 9, 30)) is None


def test_a_co_financing_payment_reference_is_a_code_never_a_name(world) -> None:  # type: ignore[no-untyped-def]
    project = seed_cofinancing()
    with pytest.raises(ValidationFailed, match="never a donor's name"):
        receive_esf_payment(
            project,
            actor=world.treasurer,
            amount="100",
            date=dt.date(2007, 2, 1),
            reference="Anna Andersson 2",
        )
