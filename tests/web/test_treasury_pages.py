"""Treasurer pages: schedule, batch (four eyes), the pain.001 file, payment confirmation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse

from accounting import pain001
from accounting.models import PaymentBatch
from tests.fixtures import World
from tests.web.conftest import sign_in


def messages_of(response: object) -> list[str]:
    return [str(m) for m in response.context["messages"]]  # type: ignore[attr-defined]


def test_two_treasurers_batch_approve_export_and_confirm(world: World) -> None:
    app = world.to_approved(world.new_application("1500"))
    first = sign_in(Client(), world.treasurer)
    second = sign_in(Client(), world.treasurer2)
    assert app.reference in first.get(reverse("web:treasury")).content.decode()
    first.post(reverse("web:application_transition", args=[app.reference, "schedule_payout"]))
    app.refresh_from_db()
    assert app.state == "payout_scheduled"

    page = first.get(reverse("web:treasury")).content.decode()
    assert "1\u00a0500,00\u00a0kr" in page or "SEK 1,500.00" in page
    response = first.post(reverse("web:batch_create"), follow=True)
    batch = PaymentBatch.objects.get()
    assert response.redirect_chain[-1][0] == reverse("web:batch", args=[batch.pk])

    response = first.post(reverse("web:batch_action", args=[batch.pk, "approve"]), follow=True)
    assert "You created this batch; a payout batch needs a treasurer who did not." in (
        messages_of(response)
    )
    second.post(reverse("web:batch_action", args=[batch.pk, "approve"]))
    batch.refresh_from_db()
    assert batch.status == "approved"

    response = first.post(reverse("web:batch_file", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert f"{batch.message_id}.xml" in response["Content-Disposition"]
    pain001.validate(response.content)  # raises if the file does not match the XSD
    assert app.reference.encode() in response.content

    first.post(reverse("web:batch_action", args=[batch.pk, "mark_sent"]))
    first.post(reverse("web:batch_action", args=[batch.pk, "confirm_paid"]))
    app.refresh_from_db()
    assert app.state == "paid"


def test_the_file_is_not_given_before_approval(world: World) -> None:
    app = world.to_approved(world.new_application("700"))
    world.run(app, "schedule_payout", world.treasurer)
    client = sign_in(Client(), world.treasurer)
    client.post(reverse("web:batch_create"))
    batch = PaymentBatch.objects.get()
    response = client.post(reverse("web:batch_file", args=[batch.pk]), follow=True)
    assert "A batch is exported only after a second treasurer approved it." in messages_of(response)


def test_balances_and_commitments_are_shown(world: World) -> None:
    world.to_approved(world.new_application("2000"))
    html = sign_in(Client(), world.treasurer).get(reverse("web:treasury")).content.decode()
    assert world.fund.name in html
    assert "SEK 2,000.00" in html  # committed
    assert "SEK 1,000,000.00" in html  # in the bank
    assert "SEK 998,000.00" in html  # capital: the decided grant is a cost already (issue #16)


def test_a_treasurer_downloads_the_sie_file_and_the_ledger(
    world: World, settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    from audit.models import AuditEvent

    settings.EXPORT_FILES_DIR = tmp_path
    world.to_paid(world.new_application("1500"))
    client = sign_in(Client(), world.treasurer)
    assert client.get(reverse("web:exports")).status_code == 200
    year = timezone.localdate().year
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:exports"), {"kind": "sie4i", "year": year})
    assert response.status_code == 302
    job_page = client.get(response["Location"])
    assert job_page.status_code == 200
    download = job_page.context["job"]
    response = client.get(reverse("web:export_job_file", args=[download.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.startswith(b"#FLAGGA 0")
    assert b"#VER" in content
    assert AuditEvent.objects.filter(action="export.sie", actor_id=world.treasurer.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:exports"), {"kind": "ledger_csv", "year": year})
    job = client.get(response["Location"]).context["job"]
    response = client.get(reverse("web:export_job_file", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert b"6710" in b"".join(response.streaming_content)


def test_a_treasurer_declares_an_exported_file_void_and_resolves_a_bank_exception(
    world: World,
) -> None:
    """Issue #13: the void step and the exception list are on the treasurer's pages."""
    from accounting.bank_status import import_pain002
    from accounting.models import BankException, PaymentOrder
    from tests.accounting.bank_files import pain002

    app = world.to_approved(world.new_application("700"))
    world.run(app, "schedule_payout", world.treasurer)
    batch = world.send_payouts(app)
    exporter = sign_in(Client(), world.treasurer)
    second = sign_in(Client(), world.treasurer2)
    page = exporter.get(reverse("web:batch", args=[batch.pk])).content.decode()
    assert "Declare the file void" in page
    response = exporter.post(reverse("web:batch_action", args=[batch.pk, "void"]), follow=True)
    assert any("another treasurer must declare" in m for m in messages_of(response))
    second.post(reverse("web:batch_action", args=[batch.pk, "void"]))
    batch.refresh_from_db()
    assert batch.status == "voided"

    old = PaymentOrder.objects.get(batch=batch)
    import_pain002(pain002(batch, [(old, ("ACSC", ""))]), actor=world.treasurer)  # paid after all
    page = second.get(reverse("web:treasury")).content.decode()
    assert "Bank exceptions to resolve" in page and f"PO-{old.pk}" in page
    exception = BankException.objects.get()
    response = exporter.post(
        reverse("web:bank_exception_resolve"),
        {"exception": exception.pk, "resolution": "recovered"},
        follow=True,
    )
    assert any("another treasurer resolves it" in m for m in messages_of(response))
    second.post(
        reverse("web:bank_exception_resolve"),
        {"exception": exception.pk, "resolution": "recovered"},
    )
    exception.refresh_from_db()
    assert exception.resolution == "recovered"


def test_a_payee_awaiting_approval_is_listed_and_approved_by_another_treasurer(
    world: World,
) -> None:
    from accounting.models import Payee
    from accounting.payees import create_payee

    payee = create_payee(
        actor=world.treasurer,
        kind="supplier",
        name="Nya Optikern AB",
        method="bankgiro",
        account="991-2346",
    )
    first = sign_in(Client(), world.treasurer)
    page = first.get(reverse("web:treasury")).content.decode()
    assert payee.reference in page and "Nya Optikern AB" in page and "9912346" in page
    assert reverse("web:payee_approve", args=[payee.pk]) in page
    response = first.post(reverse("web:payee_approve", args=[payee.pk]), follow=True)
    assert "You registered this payee; another treasurer must approve it." in messages_of(response)
    assert Payee.objects.get(pk=payee.pk).approved_by is None

    second = sign_in(Client(), world.treasurer2)
    assert second.get(reverse("web:payee_approve", args=[payee.pk])).status_code == 405
    response = second.post(reverse("web:payee_approve", args=[payee.pk]), follow=True)
    assert f"Payee {payee.reference} is approved." in messages_of(response)
    assert Payee.objects.get(pk=payee.pk).approved_by == world.treasurer2
    assert payee.reference not in second.get(reverse("web:treasury")).content.decode()


def test_approving_a_payee_needs_the_csrf_token(world: World) -> None:
    from accounting.models import Payee
    from accounting.payees import create_payee

    payee = create_payee(
        actor=world.treasurer,
        kind="supplier",
        name="Apoteket",
        method="plusgiro",
        account="9020025",
    )
    client = sign_in(Client(enforce_csrf_checks=True), world.treasurer2)
    response = client.post(reverse("web:payee_approve", args=[payee.pk]))
    assert response.status_code == 403
    assert Payee.objects.get(pk=payee.pk).approved_by is None


def test_a_person_payee_awaiting_approval_shows_neither_name_nor_full_account(
    world: World,
) -> None:
    from accounting.payees import create_payee

    app = world.new_application("500", name="Maria Hemlig")
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name="Maria Hemlig",
        method="bank_account",
        clearing_number="6789",
        account="123456703",
        beneficiary=app.beneficiary,
    )
    page = sign_in(Client(), world.treasurer2).get(reverse("web:treasury")).content.decode()
    assert payee.reference in page and "ending 6703" in page
    assert "Maria" not in page and "123456703" not in page


def test_two_treasurers_close_a_year_on_the_year_end_page(world: World) -> None:
    from accounting.ledger import close_period, fiscal_year_for, record_income
    from accounting.models import Period, YearEndClosing

    record_income(
        world.fund,
        "5000",
        kind="donation",
        actor=world.treasurer,
        reference="GIFT-2023",
        date=dt.date(2023, 4, 1),
    )
    fiscal_year = fiscal_year_for(dt.date(2023, 1, 1))
    first = sign_in(Client(), world.treasurer)
    second = sign_in(Client(), world.treasurer2)
    page = first.get(reverse("web:year_end"), {"year": "2023"}).content.decode()
    assert "12 periods of the year are still open" in page and "5,000.00" in page
    for period in Period.objects.filter(fiscal_year=fiscal_year).order_by("start"):
        close_period(period, actor=world.treasurer)

    url = reverse("web:year_end_step", kwargs={"step": "prepare"})
    first.post(url, {"year": "2023"})
    refused = first.post(
        reverse("web:year_end_step", kwargs={"step": "approve"}), {"year": "2023"}, follow=True
    )
    assert any("second treasurer" in m for m in messages_of(refused))
    second.post(reverse("web:year_end_step", kwargs={"step": "approve"}), {"year": "2023"})

    assert YearEndClosing.objects.get(fiscal_year=fiscal_year).locked_at is not None
    page = second.get(reverse("web:year_end"), {"year": "2023"}).content.decode()
    assert "Closed and locked" in page
