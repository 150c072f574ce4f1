"""The treasurer's daily path in the browser (issue #19, items 5 and 7 and the treasury's
"also"s): scheduling stays in the treasury with the payee choice, batches are named for
people, irreversible steps ask first and say after exactly what happened, periods close with
four eyes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounting.ledger import fiscal_year_for
from accounting.models import PayeeKind, PaymentBatch, Period
from accounting.payouts import batches
from fund.models import Application
from tests.fixtures import World, approved_payee
from tests.web.conftest import sign_in


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class Browser:
    """A signed-in client counting page loads as the issue does (a POST answered with a
    redirect and the page it leads to is one load; a download is one)."""

    def __init__(self, client: Client, counter: list[int]) -> None:
        self.client, self.counter = client, counter

    def get(self, url: str) -> Any:
        self.counter[0] += 1
        return self.client.get(url)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        self.counter[0] += 1
        return self.client.post(url, data or {}, **kw)


def _approved(world: World, *amounts: str) -> Application:
    return world.to_approved(world.new_application(*amounts))


def test_treasurers_go_from_approved_cases_to_a_downloaded_file_in_six_page_loads(
    world: World,
) -> None:
    first_case, second_case = _approved(world, "1500", "700"), _approved(world, "300")
    loads = [0]
    first = Browser(sign_in(Client(), world.treasurer), loads)
    second = Browser(sign_in(Client(), world.treasurer2), loads)

    page = first.get(reverse("web:treasury")).content.decode()
    assert first_case.reference in page and second_case.reference in page
    first.post(
        reverse("web:schedule_payouts"),
        {"applications": [first_case.reference, second_case.reference]},
        follow=True,
    )
    first.post(reverse("web:batch_create"), follow=True)
    batch = PaymentBatch.objects.get()
    page = second.get(reverse("web:treasury")).content.decode()
    assert reverse("web:batch_action", args=[batch.pk, "approve"]) in page
    approved = second.post(reverse("web:batch_action", args=[batch.pk, "approve"]), follow=True)
    assert approved.redirect_chain[-1][0] == reverse("web:batch", args=[batch.pk])
    download = second.post(reverse("web:batch_file", args=[batch.pk]))

    assert download.status_code == 200 and download["Content-Type"] == "application/xml"
    assert loads[0] <= 6
    batch.refresh_from_db()
    assert batch.status == "approved" and batch.orders.count() == 3


def test_planning_payouts_keeps_the_treasurer_in_the_treasury(world: World) -> None:
    first_case, second_case = _approved(world, "1500"), _approved(world, "300")
    client = sign_in(Client(), world.treasurer)

    response = client.post(
        reverse("web:schedule_payouts"),
        {"applications": [first_case.reference, second_case.reference]},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("web:treasury"), 302)]
    assert messages_of(response) == [
        f"The payouts of 2 cases are scheduled: {first_case.reference}, {second_case.reference}."
    ]
    first_case.refresh_from_db()
    assert first_case.state == "payout_scheduled"


def test_planning_a_payout_in_the_treasury_offers_the_payee_choice(world: World) -> None:
    app = _approved(world, "1500")
    supplier = approved_payee(
        world.treasurer2,
        world.treasurer,
        kind=PayeeKind.SUPPLIER,
        name="Optiker Syn AB",
        method="bankgiro",
        account="5050-1055",
    )
    client = sign_in(Client(), world.treasurer)
    page = client.get(reverse("web:treasury")).content.decode()
    assert f'name="payee_{app.reference}"' in page and "Optiker Syn AB" in page

    client.post(
        reverse("web:schedule_payouts"),
        {"applications": [app.reference], f"payee_{app.reference}": str(supplier.pk)},
    )

    assert list(app.payment_orders.values_list("payee_id", flat=True)) == [supplier.pk]


def test_a_refused_schedule_names_the_case_and_keeps_the_treasurer_in_the_treasury(
    world: World,
) -> None:
    app = _approved(world, "1500")
    client = sign_in(Client(), world.treasurer)

    response = client.post(
        reverse("web:schedule_payouts"),
        {"applications": [app.reference], f"payee_{app.reference}": "999999"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("web:treasury"), 302)]
    assert messages_of(response) == [f"{app.reference}: Item 1: there is no payee 999999."]


def _batch(world: World, *amounts: str) -> PaymentBatch:
    app = world.run(_approved(world, *amounts), "schedule_payout", world.treasurer)
    return batches.create_batch(actor=world.treasurer, applications=[app])


def test_batches_are_named_for_people_by_date_count_and_total(world: World) -> None:
    batch = _batch(world, "1500", "700")
    name = f"Batch {timezone.localdate().isoformat()} with 2 payments, SEK 2,200.00"
    client = sign_in(Client(), world.treasurer2)

    assert batch.display_name == name
    assert name in client.get(reverse("web:treasury")).content.decode()
    page = client.get(reverse("web:batch", args=[batch.pk])).content.decode()
    assert f"<title>{name}" in page and f"<h1>{name}</h1>" in page
    assert batch.message_id in page  # still there, as a detail


def test_the_batch_approval_says_exactly_which_batch_was_approved(world: World) -> None:
    batch = _batch(world, "1500", "700")
    client = sign_in(Client(), world.treasurer2)

    response = client.post(reverse("web:batch_action", args=[batch.pk, "approve"]), follow=True)

    day = timezone.localdate().isoformat()
    assert messages_of(response) == [
        f"Batch {day} with 2 payments, SEK 2,200.00, is approved; its payment file can be "
        "downloaded."
    ]


def test_the_batch_approval_message_in_swedish_names_date_count_and_total(world: World) -> None:
    batch = _batch(world, "1500", "700")
    client = sign_in(Client(), world.treasurer2)
    client.cookies["django_language"] = "sv"

    response = client.post(reverse("web:batch_action", args=[batch.pk, "approve"]), follow=True)

    day = timezone.localdate().isoformat()
    with translation.override("sv"):
        assert messages_of(response) == [
            f"Bunt {day} med 2 betalningar, 2\u00a0200,00\u00a0kr, är godkänd; "
            "betalfilen kan laddas ned."
        ]


def test_irreversible_batch_actions_ask_before_they_run(world: World) -> None:
    batch = _batch(world, "1500")
    name = batch.display_name
    client = sign_in(Client(), world.treasurer2)
    draft = client.get(reverse("web:batch", args=[batch.pk])).content.decode()
    assert f'data-confirm="Cancel {name}? Its orders go back to the list for a new batch; ' in (
        draft
    )
    assert f'data-confirm="Approve {name}? ' in draft

    batches.approve_batch(batch, actor=world.treasurer2)
    batches.export_batch(batch, actor=world.treasurer)
    approved = client.get(reverse("web:batch", args=[batch.pk])).content.decode()
    assert f'data-confirm="Mark {name} as sent to the bank? ' in approved
    assert f'data-confirm="Declare the file of {name} void? ' in approved

    batches.mark_sent(batch, actor=world.treasurer)
    sent = client.get(reverse("web:batch", args=[batch.pk])).content.decode()
    assert (
        f'data-confirm="Confirm that the bank paid {name}? The payments are booked as paid; '
        'this cannot be undone."' in sent
    )


def test_confirm_paid_is_not_offered_once_the_batch_is_paid_and_its_status_says_paid(
    world: World,
) -> None:
    batch = _batch(world, "1500")
    batches.approve_batch(batch, actor=world.treasurer2)
    batches.export_batch(batch, actor=world.treasurer)
    batches.mark_sent(batch, actor=world.treasurer)
    client = sign_in(Client(), world.treasurer2)

    response = client.post(
        reverse("web:batch_action", args=[batch.pk, "confirm_paid"]), follow=True
    )

    assert messages_of(response) == [f"{batch.display_name}: 1 payment is booked as paid."]
    page = response.content.decode()
    assert reverse("web:batch_action", args=[batch.pk, "confirm_paid"]) not in page
    assert reverse("web:batch_action", args=[batch.pk, "void"]) not in page
    assert '<strong class="state">Paid</strong>' in page and "Sent to the bank" not in page
    listing = client.get(reverse("web:treasury")).content.decode()
    assert "<td>Paid</td>" in listing


def test_cancelling_a_batch_says_which_batch_and_where_its_orders_went(world: World) -> None:
    batch = _batch(world, "1500")
    name = batch.display_name
    client = sign_in(Client(), world.treasurer)

    response = client.post(reverse("web:batch_action", args=[batch.pk, "cancel"]), follow=True)

    assert messages_of(response) == [
        f"{name}, is cancelled; its orders are back in the list for a new batch."
    ]


@pytest.fixture
def january(world: World) -> Period:
    fiscal_year_for(dt.date(2025, 1, 1))
    return Period.objects.get(start=dt.date(2025, 1, 1))


def test_treasurers_close_a_period_on_the_year_end_page_with_four_eyes(
    world: World, january: Period
) -> None:
    first = sign_in(Client(), world.treasurer)
    second = sign_in(Client(), world.treasurer2)
    propose = reverse("web:period_close_step", args=[january.pk, "propose"])
    approve = reverse("web:period_close_step", args=[january.pk, "approve"])
    assert propose in first.get(reverse("web:year_end"), {"year": "2025"}).content.decode()

    proposed = first.post(propose, follow=True)
    assert messages_of(proposed) == [
        "Closing the period 2025-01 is proposed; a second treasurer approves it."
    ]
    assert approve not in proposed.content.decode()  # not offered to the proposer
    refused = first.post(approve, follow=True)
    assert messages_of(refused) == [
        "You proposed closing 2025-01; a second treasurer must approve it."
    ]
    page = second.get(reverse("web:year_end"), {"year": "2025"}).content.decode()
    assert approve in page and 'data-confirm="Close the period 2025-01? ' in page

    closed = second.post(approve, follow=True)
    assert messages_of(closed) == [
        "The period 2025-01 is closed: no more vouchers can be booked in it; corrections are "
        "booked in an open period."
    ]
    january.refresh_from_db()
    assert january.is_closed and january.closed_by == world.treasurer2
