"""The project financial report over the seed's project, checked against figures by hand.

Seed (cofinancing/demo.py), report 2006-01-01 - 2006-06-30, project start 2005-09-01.

Ledger on the project, cumulative to 2006-06-30 (this period in brackets):
  staff cash    300 000 + 94 260 + 400 000 + 125 680 = 919 940     (525 680)
  premises      120 000                                            (120 000)
  external       85 000                                            ( 85 000)
  travel         12 340.50                                         ( 12 340.50)
  participant    30 000                                            ( 30 000)
In kind (municipal partner): P-001 30 h/month x 350 from 2005-10, P-002 20 h x 320 from 2006-01
  cumulative  9 x 30 x 350 = 94 500 + 6 x 20 x 320 = 38 400 -> 132 900   (period 63 000 + 38 400
  = 101 400)
  staff         919 940 + 132 900 = 1 052 840                      (525 680 + 101 400 = 627 080)
  indirect 15 % of cash staff: 137 991.00                          ( 78 852.00)
  eligible      1 052 840 + 137 991 + 120 000 + 85 000 + 12 340.50 + 30 000 = 1 438 171.50
                (627 080 + 78 852 + 120 000 + 85 000 + 12 340.50 + 30 000 = 953 272.50)
Financing:
  ESF 48 %      690 322.32                                         (457 570.80)
  public cash   300 000 (municipal grant, 3987)
  private cash   25 000 (gift, 3993)
  public in-kind 132 900                                           (101 400)
  participant allowances 0 (the 30 000 the project paid itself is a cost, counted once)
  own cash      289 949.18 booked (3890 on the project, 2006-06-30), both columns
  total         690 322.32 + 300 000 + 25 000 + 132 900 + 289 949.18 = 1 438 171.50: no gap
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting.ledger import Line, post_voucher
from audit.models import AuditEvent
from cofinancing.demo import PROJECT_CODE, project_object, seed_cofinancing
from cofinancing.models import FundingSource, Partner, PartnerRole, Project, TimeSheetEntry
from cofinancing.report import build_report
from fund.money import sek

pytestmark = pytest.mark.django_db

FROM, TO = dt.date(2006, 1, 1), dt.date(2006, 6, 30)


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


def _rows(rows):  # type: ignore[no-untyped-def]
    return {r.key: r for r in rows}


def test_seed_project_matches_the_decision(project: Project) -> None:
    report = build_report(project, FROM, TO)
    assert report.total_cost.budget == D("22979840.00")
    assert report.total_financing.budget == D("22979840.00")
    assert _rows(report.financing)["esf"].budget == D("11030323.20")
    hours = sum(e.hours for e in TimeSheetEntry.objects.filter(project=project))
    assert 1000 <= hours <= 1200 and hours == 1080


def test_report_rows_and_totals_match_the_hand_computed_figures(project: Project) -> None:
    report = build_report(project, FROM, TO)
    costs = _rows(report.costs)
    financing = _rows(report.financing)

    assert (costs["staff"].period, costs["staff"].cumulative) == (D("627080"), D("1052840"))
    assert (costs["indirect"].period, costs["indirect"].cumulative) == (D("78852"), D("137991"))
    assert costs["premises"].cumulative == D("120000")
    assert costs["external_services"].cumulative == D("85000")
    assert costs["travel"].cumulative == D("12340.50")
    assert costs["participant"].cumulative == D("30000")
    assert costs["other"].cumulative == costs["less_income"].cumulative == 0

    assert report.total_cost.period == D("953272.50")
    assert report.total_cost.cumulative == D("1438171.50")
    assert financing["esf"].period == D("457570.80")
    assert financing["esf"].cumulative == D("690322.32")
    assert financing["public_cash"].cumulative == D("300000")
    assert financing["private_cash"].cumulative == D("25000")
    assert financing["public_in_kind"].period == D("101400")
    assert financing["public_in_kind"].cumulative == D("132900")
    assert financing["participant_allowance"].cumulative == 0
    assert financing["own_cash"].period == D("289949.18")
    assert financing["own_cash"].cumulative == D("289949.18")
    assert report.total_financing.cumulative == report.total_cost.cumulative
    assert report.gap.cumulative == 0

    # remaining, % used and ESF share
    assert costs["staff"].remaining == D("11200000") - D("1052840") == D("10147160")
    assert costs["staff"].used_percent == D("9.40")  # 1 052 840 / 11 200 000 = 9.4004 %
    assert costs["staff"].esf_share == D("505363.20")  # 1 052 840 x 0.48
    assert report.total_cost.used_percent == D("6.26")  # 1 438 171.50 / 22 979 840
    assert financing["esf"].share_percent == D("48.00")  # ESF's share of all financing
    assert financing["esf"].esf_share is None and costs["staff"].share_percent is None
    assert report.findings == []


def test_time_sheet_appendix_lists_whole_hours_and_amounts_without_names(
    project: Project,
) -> None:
    report = build_report(project, FROM, TO)
    lines = report.time_sheets
    assert len(lines) == 12  # 6 months x 2 persons
    assert sum(line.amount for line in lines) == D("101400")
    first = lines[0]
    assert (first.person_ref, first.month, first.hours, first.amount) == (
        "P-001",
        dt.date(2006, 1, 1),
        30,
        D("10500.00"),
    )
    assert first.attestation_ref == "ATT-2006-01-K1"


def test_report_command_writes_csv_and_xlsx_and_audits(project: Project, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "r.csv"
    call_command(
        "cofinancing_report",
        "--project",
        PROJECT_CODE,
        "--from",
        "2006-01-01",
        "--to",
        "2006-06-30",
        "--format",
        "csv",
        "--output",
        str(out),
    )
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    total = next(r for r in rows if r and r[0] == "total_cost")
    assert total[2:5] == ["22979840.00", "953272.50", "1438171.50"]
    assert any(r and r[0] == "P-002" for r in rows)
    assert "212000-0183" not in out.read_text("utf-8")  # no organisation numbers either

    xlsx = tmp_path / "r.xlsx"
    call_command(
        "cofinancing_report",
        "--project",
        PROJECT_CODE,
        "--from",
        "2006-01-01",
        "--to",
        "2006-06-30",
        "--format",
        "xlsx",
        "--output",
        str(xlsx),
    )
    book = load_workbook(xlsx, read_only=True)
    assert book.sheetnames == [
        "Report",
        "ESF",
        "Partners",
        "Hourly rates",
        "Time sheets",
        "Validations",
    ]
    values = list(book["Report"].iter_rows(values_only=True))
    total_row = next(r for r in values if r and r[0] == "total_cost")
    assert D(str(total_row[4])) == D("1438171.50")
    events = AuditEvent.objects.filter(action="cofinancing.report_exported")
    assert events.count() == 2
    assert events.first().payload["errors"] == 0  # type: ignore[union-attr]


def _book_staff_with_text(project: Project, text: str) -> None:
    obj = project_object(project.code, project.name)
    post_voucher(
        series="A",
        text=text,
        lines=[Line("7010", D("1000"), project=obj), Line("1930", D("-1000"), project=obj)],
        actor=None,
        date=dt.date(2006, 5, 31),
    )


def test_in_kind_time_also_booked_as_a_staff_cost_is_refused(
    project: Project, tmp_path: Path
) -> None:
    _book_staff_with_text(project, "Lön enligt tidrapport ATT-2006-03-K1")
    report = build_report(project, FROM, TO)
    # the extra 1 000 of cost is also a gap in the financing
    assert [f.code for f in report.errors] == ["financing_not_cost", "in_kind_booked_as_cost"]
    assert "ATT-2006-03-K1" in report.errors[1].message
    with pytest.raises(CommandError, match="counted twice"):
        call_command(
            "cofinancing_report",
            "--project",
            PROJECT_CODE,
            "--from",
            "2006-01-01",
            "--to",
            "2006-06-30",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "x.csv"),
        )
    assert not (tmp_path / "x.csv").exists()
    # As a draft the file is written with the finding in it.
    call_command(
        "cofinancing_report",
        "--project",
        PROJECT_CODE,
        "--from",
        "2006-01-01",
        "--to",
        "2006-06-30",
        "--format",
        "csv",
        "--output",
        str(tmp_path / "x.csv"),
        "--draft",
    )
    assert "in_kind_booked_as_cost" in (tmp_path / "x.csv").read_text("utf-8")


def test_owner_time_counted_in_kind_is_flagged(project: Project) -> None:
    owner = Partner.objects.get(project=project, role=PartnerRole.OWNER)
    TimeSheetEntry.objects.create(  # type: ignore[misc]  # Money into a MoneyField
        project=project,
        partner=owner,
        person_ref="P-900",
        month=dt.date(2006, 2, 1),
        hours=10,
        hourly_rate=sek("400"),
        attestation_ref="ATT-OWN-1",
    )
    codes = [f.code for f in build_report(project, FROM, TO).errors]
    # 400 SEK an hour is also above the market rate of 350, and the hours are not financed
    assert codes == ["financing_not_cost", "owner_in_kind", "in_kind_above_market_value"]


def test_esf_above_the_decided_rate_is_flagged(project: Project) -> None:
    esf = FundingSource.objects.get(project=project, kind="esf")
    FundingSource.objects.filter(pk=esf.pk).update(decided_amount=D("11030323.21"))
    codes = [f.code for f in build_report(project, FROM, TO).errors]
    assert codes == ["budget_unbalanced", "esf_rate_exceeded"]


def test_esf_received_beyond_the_rate_share_is_flagged(project: Project) -> None:
    obj = project_object(project.code, project.name)
    post_voucher(
        series="A",
        text="ESF utbetalning 2",
        lines=[Line("1930", D("300000"), project=obj), Line("3981", D("-300000"), project=obj)],
        actor=None,
        date=dt.date(2006, 6, 28),
    )
    report = build_report(project, FROM, TO)
    assert [f.code for f in report.errors] == ["esf_rate_exceeded"]
    assert "700000" in report.errors[0].message


def test_financing_above_the_eligible_cost_is_flagged(project: Project) -> None:
    obj = project_object(project.code, project.name)
    post_voucher(
        series="A",
        text="Kommunalt bidrag 2",
        lines=[Line("1930", D("500000"), project=obj), Line("3987", D("-500000"), project=obj)],
        actor=None,
        date=dt.date(2006, 6, 29),
    )
    report = build_report(project, FROM, TO)
    assert [f.code for f in report.errors] == [
        "financing_not_cost",
        "public_support_above_cost_excluding_in_kind",
    ]
    # financing 1 438 171.50 + 500 000 against a cost of 1 438 171.50
    assert "500000.00" in report.errors[0].message


def test_unknown_project_is_a_clear_error(tmp_path: Path, project: Project) -> None:
    with pytest.raises(CommandError, match="No co-financed project"):
        call_command(
            "cofinancing_report",
            "--project",
            "NOPE",
            "--from",
            "2006-01-01",
            "--to",
            "2006-06-30",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "x.csv"),
        )


def test_flat_rate_cost_model_replaces_other_costs_with_the_rate_on_staff(
    project: Project,
) -> None:
    Project.objects.filter(pk=project.pk).update(
        cost_model="flat_rate", flat_rate_percent=D("40.00")
    )
    project.refresh_from_db()
    costs = _rows(build_report(project, FROM, TO).costs)
    # 40 % of cash staff 919 940 = 367 976; premises, external services, travel drop out.
    assert costs["indirect"].cumulative == D("367976.00")
    assert costs["premises"].cumulative == costs["travel"].cumulative == 0
    assert costs["external_services"].cumulative == 0
    assert costs["staff"].cumulative == D("1052840")
    assert costs["participant"].cumulative == D("30000")


def test_the_report_reads_in_a_fixed_number_of_queries(
    project: Project, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    # 14 for the report's figures; 1 for the ESF claims; 4 for the entitlement up to the
    # last claim period ended (2005-12-31), which esf_claim_behind compares with the claims;
    # 1 for the accounts the ESF roles booked on before a remap (chart.role_accounts)
    with django_assert_max_num_queries(20):
        report = build_report(project, FROM, TO)
    assert len(report.time_sheets) == 12


def test_in_kind_hours_above_the_market_value_are_flagged(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(market_hourly_rate=D("340.00"))
    project.refresh_from_db()
    errors = build_report(project, FROM, TO).errors
    # P-001 is valued at 350 SEK an hour, P-002 at 320.
    assert [f.code for f in errors] == ["in_kind_above_market_value"]
    assert "ATT-2005-10-K1" in errors[0].message
