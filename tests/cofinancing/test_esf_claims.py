"""ESF payment claims (ansökan om utbetalning): "claimed" is its own figure.

Hand-computed on the seed (cofinancing/demo.py), rate 48 %, project 2005-09-01 - 2007-12-31:
  entitlement to 2005-12-31:  48 % of   484 899.00 = 232 751.52
  entitlement to 2006-12-31:  48 % of 1 539 571.50 = 738 994.32
  in kind 2007-01 - 2007-03:  3 x 30 h x 350 + 3 x 20 h x 320 = 50 700
  entitlement to 2007-03-31:  48 % of 1 590 271.50 = 763 330.32
  in kind 2007-01 - 2007-06:  6 x 30 h x 350 + 6 x 20 h x 320 = 101 400
  entitlement to 2007-06-30:  48 % of 1 640 971.50 = 787 666.32
  entitlement to 2007-12-31:  48 % of 1 672 471.50 = 802 786.32
Claims: 1 for 2005-09-01 - 2005-12-31, 232 751.52, submitted 2006-02-15;
        2 for 2006-01-01 - 2006-12-31, 506 242.80 (738 994.32 - 232 751.52), 2007-02-15.
Received: 400 000 on 2006-06-10. Income booked (accrued): 738 994.32 to 2006-12-31.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from audit.models import AuditEvent
from cofinancing.demo import PROJECT_CODE, seed_cofinancing
from cofinancing.esf_claims import record_esf_claim
from cofinancing.models import EsfClaim, ProgrammePeriod, Project
from cofinancing.report import build_report
from cofinancing.report_files import write_csv
from core.exceptions import PermissionDenied, ValidationFailed
from tests.factories import UserFactory
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

WHOLE = (dt.date(2005, 9, 1), dt.date(2007, 12, 31))
SPRING_2007 = dt.date(2007, 6, 30)


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


def _claim(project: Project, actor: User, **changes: object) -> EsfClaim:
    """Claim 3 of the seed: 2007-01-01 - 2007-06-30, at most 787 666.32 - 738 994.32."""
    fields: dict[str, object] = {
        "period_to": SPRING_2007,
        "amount": "48672.00",
        "submitted_on": dt.date(2007, 8, 15),
        "reference": "ESF-ANS-3",
    }
    fields.update(changes)
    return record_esf_claim(project, actor=actor, **fields)  # type: ignore[arg-type]


def _csv_rows(report) -> list[list[str]]:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    write_csv(out, report)
    return list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))


def test_the_seed_records_two_claims_matching_the_periods_the_demo_accrues(
    project: Project,
) -> None:
    claims = list(EsfClaim.objects.filter(project=project).order_by("number"))
    assert [
        (c.number, c.period_from, c.period_to, c.submitted_on, c.amount.amount, c.reference)
        for c in claims
    ] == [
        (1, dt.date(2005, 9, 1), dt.date(2005, 12, 31), dt.date(2006, 2, 15), D("232751.52"),
         "ESF-ANS-1"),
        (2, dt.date(2006, 1, 1), dt.date(2006, 12, 31), dt.date(2007, 2, 15), D("506242.80"),
         "ESF-ANS-2"),
    ]  # fmt: skip


def test_claimed_is_the_sum_of_claims_submitted_not_the_income_booked(project: Project) -> None:
    # 2006-12-31: all of 2006 is booked as income, but its claim goes in only in 2007
    esf = build_report(project, dt.date(2006, 7, 1), dt.date(2006, 12, 31)).esf
    assert (esf.entitled, esf.claimed, esf.booked, esf.received) == (
        D("738994.32"),
        D("232751.52"),
        D("738994.32"),
        D("400000.00"),
    )
    # received ahead of the claims: outstanding is negative and said to be so
    assert esf.outstanding == D("-167248.48")
    assert esf.received_ahead == D("167248.48")
    # once claim 2 is submitted (2007-02-15)
    esf = build_report(project, dt.date(2007, 1, 1), dt.date(2007, 3, 31)).esf
    assert (esf.entitled, esf.claimed, esf.booked, esf.received, esf.outstanding) == (
        D("763330.32"),
        D("738994.32"),
        D("738994.32"),
        D("400000.00"),
        D("338994.32"),
    )
    assert esf.received_ahead == D("0.00")


def test_entitled_claimed_received_and_outstanding_are_four_separate_figures_and_the_esf_sheet_lists_the_claims(  # noqa: E501
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
    rows = _csv_rows(report)
    assert ["entitled", "802786.32"] in rows
    assert ["claimed", "738994.32"] in rows
    assert ["income_booked", "738994.32"] in rows
    assert ["received", "400000.00"] in rows
    assert ["outstanding", "338994.32"] in rows
    assert ["received_ahead_of_claims", "0.00"] in rows
    header = ["claim", "period_from", "period_to", "submitted_on", "amount_sek", "reference"]
    start = rows.index(header)
    assert rows[start + 1 : start + 3] == [
        ["1", "2005-09-01", "2005-12-31", "2006-02-15", "232751.52", "ESF-ANS-1"],
        ["2", "2006-01-01", "2006-12-31", "2007-02-15", "506242.80", "ESF-ANS-2"],
    ]


def test_a_claim_is_recorded_with_its_number_period_and_audit_event(
    project: Project, world
) -> None:  # type: ignore[no-untyped-def]
    claim = _claim(project, world.treasurer, reference="esf-ans-3")
    assert (claim.number, claim.period_from, claim.period_to) == (
        3,
        dt.date(2007, 1, 1),
        SPRING_2007,
    )
    assert (claim.amount.amount, claim.reference, claim.recorded_by) == (
        D("48672.00"),
        "ESF-ANS-3",
        world.treasurer,
    )
    event = AuditEvent.objects.filter(action="cofinancing.esf_claim_recorded").latest("pk")
    assert event.object_ref == PROJECT_CODE
    assert event.payload == {
        "project": project.pk,
        "claim": claim.pk,
        "number": 3,
        "period_from": "2007-01-01",
        "period_to": "2007-06-30",
        "submitted_on": "2007-08-15",
        "amount": "48672.00",
        "claimed_to_date": "787666.32",
        "entitled": "787666.32",
        "reference": "ESF-ANS-3",
    }


def test_only_a_treasurer_records_an_esf_claim(project: Project, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        _claim(project, world.officer)
    assert EsfClaim.objects.filter(project=project).count() == 2


def test_a_claim_period_outside_the_projects_dates_is_refused(project: Project, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match=r"2008-03-31.*outside the project's period"):
        _claim(project, world.treasurer, period_to=dt.date(2008, 3, 31))


def test_a_claim_period_that_does_not_follow_the_previous_claim_is_refused(
    project: Project, world
) -> None:  # type: ignore[no-untyped-def]
    # claim 2 covers up to 2006-12-31: the next starts 2007-01-01
    with pytest.raises(ValidationFailed, match=r"claim 2 covers up to 2006-12-31.*2007-01-01"):
        _claim(project, world.treasurer, period_to=dt.date(2006, 6, 30))


def test_claims_above_the_entitlement_up_to_the_claims_period_end_are_refused(
    project: Project, world
) -> None:  # type: ignore[no-untyped-def]
    # 738 994.32 claimed + 48 672.01 = 787 666.33 > 787 666.32 entitled to 2007-06-30
    with pytest.raises(ValidationFailed, match=r"787666.33.*787666.32"):
        _claim(project, world.treasurer, amount="48672.01")
    assert _claim(project, world.treasurer, amount="48672.00").number == 3


def test_a_claim_submitted_before_its_period_ends_is_refused(project: Project, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match=r"submitted on 2007-06-30.*after 2007-06-30"):
        _claim(project, world.treasurer, submitted_on=SPRING_2007)


def test_the_same_claim_again_returns_the_existing_one_and_a_different_amount_is_refused(
    project: Project, world
) -> None:  # type: ignore[no-untyped-def]
    events = AuditEvent.objects.filter(action="cofinancing.esf_claim_recorded")
    assert events.count() == 2  # the seed's claims 1 and 2
    first = _claim(project, world.treasurer)
    assert _claim(project, world.treasurer).pk == first.pk
    assert events.count() == 3
    with pytest.raises(ValidationFailed, match="Claim 3 for 2007-01-01 - 2007-06-30"):
        _claim(project, world.treasurer, amount="40000.00")
    assert EsfClaim.objects.filter(project=project).count() == 3


def test_a_correction_is_a_new_claim_with_a_negative_amount(project: Project, world) -> None:  # type: ignore[no-untyped-def]
    _claim(project, world.treasurer)
    correction = _claim(
        project,
        world.treasurer,
        period_to=dt.date(2007, 12, 31),
        amount="-1000.00",
        submitted_on=dt.date(2008, 2, 15),
        reference="ESF-ANS-4",
    )
    assert (correction.number, correction.amount.amount) == (4, D("-1000.00"))
    # 738 994.32 + 48 672.00 - 1 000.00: a claim after the project's end still counts
    assert build_report(project, *WHOLE).esf.claimed == D("787666.32")
    assert build_report(project, WHOLE[0], dt.date(2008, 3, 31)).esf.claimed == D("786666.32")
    with pytest.raises(ValidationFailed, match="below zero"):
        record_esf_claim(
            Project.objects.create(
                code="ESF-NEG-1",
                case_number="ESF 2024-0002",
                name="Negativ",
                start=dt.date(2024, 1, 1),
                end=dt.date(2024, 12, 31),
                programme_period=ProgrammePeriod.P2021_2027,
                esf_rate_percent=D("50"),
            ),
            actor=world.treasurer,
            period_to=dt.date(2024, 6, 30),
            amount="-1.00",
            submitted_on=dt.date(2024, 7, 15),
            reference="NEG-1",
        )


@pytest.mark.parametrize("reference", ["Anna", "Anna Svensson", "800101-1234", "ANS/1", ""])
def test_a_claim_reference_is_a_code_never_a_name(project: Project, world, reference: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="reference"):
        _claim(project, world.treasurer, reference=reference)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cofinancing_esfclaim SET amount = 1 WHERE id = %s",
        "UPDATE cofinancing_esfclaim SET period_to = '2006-06-30' WHERE id = %s",
        "DELETE FROM cofinancing_esfclaim WHERE id = %s",
    ],
)
def test_a_recorded_claim_cannot_be_changed_or_deleted(project: Project, statement: str) -> None:
    claim = EsfClaim.objects.filter(project=project).order_by("number").first()
    assert claim is not None
    with (
        pytest.raises(IntegrityError, match="ESF claim"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [claim.pk])
    assert EsfClaim.objects.get(pk=claim.pk).amount.amount == D("232751.52")


def test_esf_claim_behind_warns_when_costs_of_ended_periods_are_not_claimed(
    project: Project,
) -> None:
    def behind(date_from: dt.date, date_to: dt.date) -> list[str]:
        report = build_report(project, date_from, date_to)
        return [f.message for f in report.findings if f.code == "esf_claim_behind"]

    # to 2006-06-30: claim 1 covers all 2005 entitles to (232 751.52); 2006 has not ended
    assert behind(dt.date(2006, 1, 1), dt.date(2006, 6, 30)) == []
    # 2007-01-31: 2006 has ended, 738 994.32 entitled to 2006-12-31, 232 751.52 claimed
    (message,) = behind(dt.date(2006, 7, 1), dt.date(2007, 1, 31))
    assert "2006-12-31" in message and "506242.80" in message
    # claim 2 (2007-02-15) catches up
    assert behind(dt.date(2007, 1, 1), dt.date(2007, 3, 31)) == []
    # the project's end: 802 786.32 entitled, 738 994.32 claimed
    (message,) = behind(*WHOLE)
    assert "2007-12-31" in message and "63792.00" in message


def test_esf_claim_command_records_a_claim_and_shows_refusals(project: Project, world) -> None:  # type: ignore[no-untyped-def]
    args = ["--project", PROJECT_CODE, "--to", "2007-06-30", "--submitted", "2007-08-15"]
    args += ["--reference", "ESF-ANS-3", "--user", world.treasurer.username]
    with pytest.raises(CommandError, match=r"787666.33"):
        call_command("esf_claim", *args, "--amount", "48672.01")
    out = io.StringIO()
    call_command("esf_claim", *args, "--amount", "48672,00", stdout=out)
    assert "3" in out.getvalue()
    assert EsfClaim.objects.get(project=project, number=3).amount.amount == D("48672.00")


def test_esf_claims_are_listed_read_only_in_the_admin(project: Project) -> None:
    user = cast(User, UserFactory(roles=["treasurer"]))
    user.is_staff = user.is_superuser = True
    user.save()
    client = sign_in(Client(), user)
    claim = EsfClaim.objects.get(project=project, number=1)
    listing = client.get("/admin/cofinancing/esfclaim/")
    assert listing.status_code == 200 and "ESF-ANS-1" in listing.content.decode()
    assert client.get("/admin/cofinancing/esfclaim/add/").status_code == 403
    response = client.post(f"/admin/cofinancing/esfclaim/{claim.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert EsfClaim.objects.filter(pk=claim.pk).exists()
