"""The treasurer's co-financing page: ESF income accrued, money received and claims recorded
without a shell, and the project report downloaded (treasurers and auditors).

Figures from the seed (cofinancing/demo.py, see tests/cofinancing/test_esf_income.py and
test_esf_claims.py), project ESF-EQ-2005, 2005-09-01 - 2007-12-31, rate 48 %:
  entitled by the project's end: 802 786.32; claimed (claims 1 and 2): 738 994.32;
  received: 400 000.00; outstanding: 338 994.32; income booked (to 2006-12-31): 738 994.32.
  Accrual to 2007-12-31: 63 792.00 more (1790 D / 3981 C).
  500 000 received on 2007-01-15 -> received 900 000.00.
  Claim 3 up to 2007-06-30: 48 672.00 (787 666.32 - 738 994.32) -> claimed 787 666.32,
  outstanding 787 666.32 - 900 000.00 = -112 333.68.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounting.models import Voucher
from audit.models import AuditEvent
from cofinancing.demo import PROJECT_CODE, seed_cofinancing
from cofinancing.esf_ledger import esf_ledger
from cofinancing.models import EsfClaim, Partner, Project, TimeSheetEntry
from tests.fixtures import World
from tests.web.conftest import sign_in

pytestmark = pytest.mark.django_db

PAGE = "web:cofinancing"


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _book(client: Client, action: str, **fields: str) -> Any:
    url = reverse("web:cofinancing_action", kwargs={"action": action})
    return client.post(url, {"project": PROJECT_CODE, **fields}, follow=True)


def test_the_payouts_page_links_to_the_cofinancing_page(world: World) -> None:
    page = sign_in(Client(), world.treasurer).get(reverse("web:treasury")).content.decode()
    assert reverse(PAGE) in page


def test_the_page_shows_each_projects_esf_figures_and_offers_its_last_day_to_accrue_to(
    world: World, project: Project
) -> None:
    page = sign_in(Client(), world.treasurer).get(reverse(PAGE)).content.decode()
    assert PROJECT_CODE in page and "2005-09-01" in page and "2007-12-31" in page
    assert project.get_programme_period_display() in page
    for figure in ("802,786.32", "738,994.32", "400,000.00", "338,994.32"):
        assert figure in page
    # the project has ended: the accrual is offered to its last day, and the page says why
    assert 'name="up_to" value="2007-12-31"' in page
    assert "the project&#x27;s last day" in page or "the project's last day" in page


def test_a_treasurer_accrues_receives_and_claims_on_the_cofinancing_page(
    world: World, project: Project
) -> None:
    client = sign_in(Client(), world.treasurer)

    accrued = _book(client, "accrue", up_to="2007-12-31")
    voucher = Voucher.objects.get(text=f"ESF-intäkt upplupen {PROJECT_CODE} t.o.m. 2007-12-31")
    assert {p.account.number: p.amount.amount for p in voucher.postings.all()} == {
        "1790": D("63792.00"),
        "3981": D("-63792.00"),
    }
    assert any("accrued up to 2007-12-31" in m and "63792.00" in m for m in messages_of(accrued))

    received = _book(client, "receive", amount="500000", date="2007-01-15", reference="ESF-UTB-2")
    assert any("Money received for project" in m for m in messages_of(received))

    claimed = _book(
        client,
        "claim",
        period_to="2007-06-30",
        amount="48672.00",
        submitted_on="2007-08-15",
        reference="ESF-ANS-3",
    )
    assert "Claim 3 for 2007-01-01 - 2007-06-30 recorded: 48672.00." in messages_of(claimed)
    assert EsfClaim.objects.get(project=project, number=3).amount.amount == D("48672.00")

    books = esf_ledger(project)
    assert (books.recognised, books.received) == (D("802786.32"), D("900000.00"))
    page = claimed.content.decode()  # each booking comes back to the page
    for figure in ("802,786.32", "787,666.32", "900,000.00", "-112,333.68"):
        assert figure in page
    assert [e.action for e in AuditEvent.objects.filter(object_ref=PROJECT_CODE)][-3:] == [
        "cofinancing.esf_income_accrued",
        "cofinancing.esf_payment_received",
        "cofinancing.esf_claim_recorded",
    ]


def test_accruing_again_to_the_same_date_says_there_is_nothing_to_book(
    world: World, project: Project
) -> None:
    count = Voucher.objects.count()
    response = _book(sign_in(Client(), world.treasurer), "accrue", up_to="2006-12-31")
    assert Voucher.objects.count() == count
    assert any(m.startswith("Nothing to book") for m in messages_of(response))


def test_the_services_refusal_is_shown_as_it_is(world: World, project: Project) -> None:
    client = sign_in(Client(), world.treasurer)
    count = Voucher.objects.count()
    response = _book(client, "accrue", up_to="2006-06-30")
    assert messages_of(response) == [
        f"ESF income of project {PROJECT_CODE} is already booked up to 2006-12-31; accrue to "
        "that date or a later one."
    ]
    response = _book(
        client,
        "claim",
        period_to="2007-06-30",
        amount="900000",
        submitted_on="2007-08-15",
        reference="ESF-ANS-3",
    )
    assert messages_of(response) == [
        f"The claims of project {PROJECT_CODE} would add up to 1638994.32, more than the "
        "787666.32 its eligible costs up to 2007-06-30 entitle it to."
    ]
    response = _book(client, "receive", amount="1000", date="2007-01-15", reference="")
    assert messages_of(response) == ["Payment reference: This field is required."]
    response = _book(client, "accrue", up_to="2007-12-31", project="NOPE-1")
    assert messages_of(response) == ["No co-financed project with the code NOPE-1."]
    assert Voucher.objects.count() == count
    assert not EsfClaim.objects.filter(project=project, number=3).exists()


@pytest.mark.parametrize("role", ["officer", "ombud"])
def test_an_officer_or_an_ombud_may_not_book_co_financing_income(
    world: World, project: Project, role: str
) -> None:
    user = world.officer if role == "officer" else world.ombud.user
    client = sign_in(Client(), user)
    count = Voucher.objects.count()
    assert client.get(reverse(PAGE)).status_code == 403
    response = client.post(
        reverse("web:cofinancing_action", kwargs={"action": "accrue"}),
        {"project": PROJECT_CODE, "up_to": "2007-12-31"},
    )
    assert response.status_code == 403
    assert Voucher.objects.count() == count


def test_the_page_names_projects_and_partners_never_a_person(
    world: World, project: Project
) -> None:
    page = sign_in(Client(), world.treasurer).get(reverse(PAGE)).content.decode()
    people = set(TimeSheetEntry.objects.values_list("person_ref", flat=True))
    assert people and not any(person in page for person in people)
    numbers = set(Partner.objects.values_list("org_number", flat=True))
    assert numbers and not any(number in page for number in numbers)


def test_the_cofinancing_page_speaks_swedish(world: World, project: Project) -> None:
    client = sign_in(Client(), world.treasurer)
    client.post(reverse("set_language"), {"language": "sv"})
    page = client.get(reverse(PAGE)).content.decode()
    assert "<h1>Medfinansiering</h1>" in page
    assert "Berättigat (kr)" in page and "Utestående (kr)" in page
    assert "Bokför upplupen intäkt" in page
    response = _book(client, "accrue", up_to="2006-06-30")
    assert messages_of(response) == [
        f"ESF-intäkten för projekt {PROJECT_CODE} är redan bokförd till och med 2006-12-31; "
        "periodisera till det datumet eller ett senare."
    ]


# --------------------------------------------------------------------------------------
# The report download
# --------------------------------------------------------------------------------------


def _report(client: Client, **changes: str) -> Any:
    params = {
        "project": PROJECT_CODE,
        "date_from": "2005-09-01",
        "date_to": "2007-12-31",
        "fmt": "csv",
        "draft": "on",
        **changes,
    }
    return client.get(reverse("web:cofinancing_report"), params)


def _esf_rows(response: Any) -> dict[str, str]:
    content = b"".join(response.streaming_content).decode("utf-8")
    return {row[0]: row[1] for row in csv.reader(io.StringIO(content)) if len(row) == 2}


def test_a_treasurer_downloads_the_report_for_a_period(world: World, project: Project) -> None:
    response = _report(sign_in(Client(), world.treasurer))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert f"{PROJECT_CODE}-20050901-20071231.csv" in response["Content-Disposition"]
    rows = _esf_rows(response)
    assert (rows["entitled"], rows["claimed"], rows["received"]) == (
        "802786.32",
        "738994.32",
        "400000.00",
    )
    event = AuditEvent.objects.filter(action="cofinancing.report_exported").last()
    assert event is not None and event.actor_id == world.treasurer.pk
    assert event.payload["format"] == "csv" and event.payload["to"] == "2007-12-31"


def test_an_auditor_may_download_the_report_as_excel(world: World, project: Project) -> None:
    from openpyxl import load_workbook

    response = _report(sign_in(Client(), world.auditor), fmt="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    esf = {row[0]: row[1] for row in book["ESF"].iter_rows(values_only=True) if row}
    assert D(str(esf["entitled"])) == D("802786.32")


def test_an_officer_may_not_download_the_report(world: World, project: Project) -> None:
    assert _report(sign_in(Client(), world.officer)).status_code == 403
    assert not AuditEvent.objects.filter(action="cofinancing.report_exported").exists()


def test_a_report_period_outside_the_project_is_refused_on_the_page(
    world: World, project: Project
) -> None:
    response = _report(
        sign_in(Client(), world.auditor), date_from="2010-01-01", date_to="2010-12-31"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert messages_of(response) == [
        "The report period 2010-01-01 - 2010-12-31 lies outside the project's period "
        "2005-09-01 - 2007-12-31; nothing in it can be reported."
    ]
