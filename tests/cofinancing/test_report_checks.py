"""The co-financing report's checks, each failing on a crafted project and passing on the seed.

Whole project (2005-09-01 - 2007-12-31), by hand: cash cost 1 305 271.50 (staff 919 940,
indirect 137 991, premises 120 000, external 85 000, travel 12 340.50, participants 30 000);
in kind 24 x 30 h x 350 + 18 x 20 h x 320 = 367 200 (1 080 h); eligible 1 672 471.50;
ESF 48 % = 802 786.32; public support incl. in kind 802 786.32 + 300 000 + 367 200
= 1 469 986.32 against eligible cost excl. in kind 1 305 271.50 (164 714.82 too much).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D

import pytest

from accounting.ledger import Line, post_voucher
from cofinancing.demo import project_object, seed_cofinancing
from cofinancing.models import Partner, Project, TimeSheetEntry
from cofinancing.report import build_report
from cofinancing.report_files import write_csv
from core.exceptions import ValidationFailed
from fund.money import sek

pytestmark = pytest.mark.django_db

H1 = (dt.date(2006, 1, 1), dt.date(2006, 6, 30))
WHOLE = (dt.date(2005, 9, 1), dt.date(2007, 12, 31))


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


def _codes(project: Project, period: tuple[dt.date, dt.date] = H1) -> list[str]:
    return [f.code for f in build_report(project, *period).findings]


def _update(project: Project, **fields: object) -> None:
    Project.objects.filter(pk=project.pk).update(**fields)
    project.refresh_from_db()


def test_public_support_including_in_kind_may_not_exceed_eligible_costs_excluding_in_kind(
    project: Project,
) -> None:
    report = build_report(project, *WHOLE)
    assert report.public_support == D("1469986.32")
    assert report.eligible_excluding_in_kind == D("1305271.50")
    finding = next(
        f for f in report.errors if f.code == "public_support_above_cost_excluding_in_kind"
    )
    assert "164714.82" in finding.message
    assert "2000-2006" in finding.message and "448/2004" in finding.message
    # to 2006-06-30: 690 322.32 + 300 000 + 132 900 = 1 123 222.32 <= 1 305 271.50
    assert "public_support_above_cost_excluding_in_kind" not in _codes(project)


def test_own_financing_is_taken_from_the_ledger_and_a_gap_is_shown_as_a_gap(
    project: Project,
) -> None:
    assert "financing_not_cost" not in _codes(project)  # the seed's own cash covers it
    obj = project_object(project.code, project.name)
    post_voucher(
        series="A",
        text="Lokalhyra extra",
        lines=[Line("5010", D("10000"), project=obj), Line("1930", D("-10000"), project=obj)],
        actor=None,
        date=dt.date(2006, 6, 29),
    )
    report = build_report(project, *H1)
    financing = {r.key: r for r in report.financing}
    assert financing["own_cash"].cumulative == D("289949.18")  # as booked, not balancing
    # 10 000 more cost, 4 800 more ESF entitlement: 5 200 not financed
    assert report.gap.cumulative == D("5200.00")
    gap = next(f for f in report.errors if f.code == "financing_not_cost")
    assert "5200.00" in gap.message


def test_esf_row_shows_entitled_claimed_received_and_outstanding_separately(
    project: Project,
) -> None:
    report = build_report(project, *WHOLE)
    esf = report.esf
    assert (esf.entitled, esf.claimed, esf.received, esf.outstanding) == (
        D("802786.32"),
        D("738994.32"),
        D("400000.00"),
        D("338994.32"),
    )
    out = io.BytesIO()
    write_csv(out, report)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert ["outstanding", "338994.32"] in rows
    # to 2006-06-30 the money came ahead of what was claimed: an advance
    early = build_report(project, *H1).esf
    assert (early.claimed, early.received, early.outstanding) == (
        D("232751.52"),
        D("400000.00"),
        D("-167248.48"),
    )


def test_participant_allowances_paid_by_the_project_are_counted_once(project: Project) -> None:
    report = build_report(project, *H1)
    costs = {r.key: r for r in report.costs}
    financing = {r.key: r for r in report.financing}
    assert costs["participant"].cumulative == D("30000")
    assert financing["participant_allowance"].cumulative == 0


def test_a_sheet_per_development_partner_with_hours_against_the_budgeted_hours(
    project: Project,
) -> None:
    report = build_report(project, *WHOLE)
    partner = next(p for p in report.partners if p.role == "partner")
    assert (partner.hours_cumulative, partner.value_cumulative) == (1080, D("367200.00"))
    assert (partner.budgeted_hours_min, partner.budgeted_hours_max) == (1000, 1200)
    owner = next(p for p in report.partners if p.role == "owner")
    assert owner.cash_costs == D("1305271.50")
    rates = {(r.hourly_rate, r.hours) for r in report.rates}
    assert rates == {(D("350.00"), 720), (D("320.00"), 360)}
    assert all(r.basis.startswith("Monthly salary") for r in report.rates)
    assert "in_kind_hours_above_budget" not in _codes(project, WHOLE)

    municipality = Partner.objects.get(project=project, role="partner")
    TimeSheetEntry.objects.create(  # type: ignore[misc]  # Money into a MoneyField
        project=project,
        partner=municipality,
        person_ref="P-003",
        month=dt.date(2007, 10, 1),
        hours=130,
        hourly_rate=sek("300"),
        attestation_ref="ATT-2007-10-K2",
    )
    assert "in_kind_hours_above_budget" in _codes(project, WHOLE)  # 1 210 h > 1 200 h


def test_in_kind_time_without_a_market_rate_is_refused(project: Project) -> None:
    assert "market_rate_missing" not in _codes(project)
    _update(project, market_hourly_rate=None)
    report = build_report(project, *H1)
    assert [f.code for f in report.errors] == ["market_rate_missing"]


def test_a_report_period_outside_the_project_is_refused_or_clipped_and_said_aloud(
    project: Project,
) -> None:
    with pytest.raises(ValidationFailed, match="outside the project's period"):
        build_report(project, dt.date(2008, 1, 1), dt.date(2008, 6, 30))
    report = build_report(project, dt.date(2005, 1, 1), dt.date(2005, 12, 31))
    assert (report.date_from, report.date_to) == (dt.date(2005, 9, 1), dt.date(2005, 12, 31))
    clipped = next(f for f in report.findings if f.code == "period_clipped")
    assert clipped.severity == "warning" and "2005-09-01" in clipped.message
    assert "period_clipped" not in _codes(project)


def test_the_cost_model_follows_the_programme_period_set_on_the_project(
    project: Project,
) -> None:
    assert "cost_model_not_in_programme_period" not in _codes(project)
    _update(project, cost_model="flat_rate", flat_rate_percent=D("40.00"))
    assert "cost_model_not_in_programme_period" in _codes(project)  # not in 2000-2006
    _update(project, programme_period="2021-2027")
    assert "cost_model_not_in_programme_period" not in _codes(project)
    _update(project, flat_rate_percent=D("45.00"))
    assert "flat_rate_above_programme_maximum" in _codes(project)
    _update(project, programme_period="")
    assert "programme_period_missing" in _codes(project)


def test_no_column_mixes_sek_and_percent(project: Project) -> None:
    out = io.BytesIO()
    write_csv(out, build_report(project, *H1))
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    header = next(r for r in rows if r and r[0] == "row" and "label" in r)
    sek_col, pct_col = header.index("esf_share_sek"), header.index("share_of_financing_percent")
    cost = next(r for r in rows if r and r[0] == "staff")
    financing = next(r for r in rows if r and r[0] == "esf")
    assert (cost[sek_col], cost[pct_col]) == ("505363.20", "")
    assert (financing[sek_col], financing[pct_col]) == ("", "48.00")
