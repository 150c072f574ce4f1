"""Issue #19, items 3, 4 and 7 on the application page: the statutory check in one form, one
decision form whose outcome follows from the items, and irreversible steps that ask first and
say after exactly what happened."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from fund.models import Application
from tests.fixtures import World
from tests.web.conftest import sign_in
from workflows.models import Decision, DecisionItem, DecisionStatus, Obligation


def page(client: Client, app: Application) -> str:
    return client.get(reverse("web:application", args=[app.reference])).content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def assess(client: Client, app: Application, data: dict[str, str], **kw: Any) -> Any:
    return client.post(reverse("web:application_assess", args=[app.reference]), data, **kw)


def decide(client: Client, app: Application, data: dict[str, str], **kw: Any) -> Any:
    return client.post(reverse("web:application_decide", args=[app.reference]), data, **kw)


def field(html: str, name: str) -> str:
    """The HTML element (input or select with its options) named ``name``."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', html, re.S) or re.search(
        rf'<input[^>]*name="{name}"[^>]*>', html
    )
    assert found, f"no field {name}"
    return found.group(0)


def selected(html: str, name: str) -> str | None:
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', field(html, name))
    return chosen.group(1) if chosen else None


def two_items_in_check(world: World) -> tuple[Application, Any, Any]:
    app = world.to_statutory_check(world.new_application("1500", "800"))
    first, second = app.items.order_by("position")
    return app, first, second


def test_two_items_are_assessed_in_one_post(world: World) -> None:
    app, first, second = two_items_in_check(world)
    officer = sign_in(Client(), world.officer)
    response = assess(
        officer,
        app,
        {
            f"item{first.pk}-outcome": "not_obliged",
            f"item{second.pk}-outcome": "partly",
            f"item{second.pk}-authority": "social_services",
            f"item{second.pk}-legal_basis": "sol_4_1",
            f"item{second.pk}-grantable_amount": "300",
        },
    )
    assert response.status_code == 302
    assert response.url.endswith("#assessment"), "back where the officer was, not the top"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.statutory_assessment.outcome == Obligation.NOT_OBLIGED
    assert first.statutory_assessment.grantable_amount.amount == 1500
    assert second.statutory_assessment.grantable_amount.amount == 300
    response = officer.get(response.url)
    assert f"The statutory assessment of 2 items in {app.reference} is saved." in messages_of(
        response
    )


def test_the_saved_assessment_is_shown_again_with_its_grantable_amount(world: World) -> None:
    app, first, second = two_items_in_check(world)
    world.assess_all(app)
    from workflows import services

    services.record_statutory_assessment(
        second,
        actor=world.officer,
        outcome="partly",
        authority="social_services",
        legal_basis="sol_4_1",
        evidence_reference="Beslut 2026-17",
        grantable_amount="300",
    )
    html = page(sign_in(Client(), world.officer), app)
    assert selected(html, f"item{first.pk}-outcome") == "not_obliged"
    assert selected(html, f"item{second.pk}-outcome") == "partly"
    assert selected(html, f"item{second.pk}-authority") == "social_services"
    assert selected(html, f"item{second.pk}-legal_basis") == "sol_4_1"
    assert 'value="300.00"' in field(html, f"item{second.pk}-grantable_amount")
    assert 'value="Beslut 2026-17"' in field(html, f"item{second.pk}-evidence_reference")


def test_no_outcome_is_chosen_by_default_and_a_missing_choice_is_an_error_at_the_field(
    world: World,
) -> None:
    app, first, second = two_items_in_check(world)
    officer = sign_in(Client(), world.officer)
    html = page(officer, app)
    assert selected(html, f"item{first.pk}-outcome") in (None, "")
    assert "refer" not in (selected(html, f"item{second.pk}-outcome") or "")
    response = assess(officer, app, {f"item{first.pk}-outcome": "not_obliged"})
    assert response.status_code == 400
    html = response.content.decode()
    missing = field(html, f"item{second.pk}-outcome")
    assert 'aria-invalid="true"' in missing
    assert "Choose whether an authority is obliged to pay." in html
    assert selected(html, f"item{first.pk}-outcome") == "not_obliged", "what was typed stays"
    assert not hasattr(first, "statutory_assessment") or first.statutory_assessment is None


def test_an_empty_grantable_amount_asks_for_the_amount(world: World) -> None:
    app, first, second = two_items_in_check(world)
    officer = sign_in(Client(), world.officer)
    response = assess(
        officer,
        app,
        {
            f"item{first.pk}-outcome": "not_obliged",
            f"item{second.pk}-outcome": "partly",
            f"item{second.pk}-authority": "social_services",
            f"item{second.pk}-legal_basis": "sol_4_1",
            f"item{second.pk}-evidence_reference": "Avslag 12",
            f"item{second.pk}-grantable_amount": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "None" not in html
    assert "Fill in the amount that can be granted" in html
    assert 'aria-invalid="true"' in field(html, f"item{second.pk}-grantable_amount")
    assert 'value="Avslag 12"' in field(html, f"item{second.pk}-evidence_reference")
    assert selected(html, f"item{second.pk}-legal_basis") == "sol_4_1"
    assert not type(first).objects.filter(statutory_assessment__isnull=False).exists(), (
        "all items or none"
    )


def in_decision(world: World, *amounts: str) -> tuple[Application, list[Any]]:
    app = world.to_decision(world.new_application(*amounts))
    return app, list(app.items.order_by("position"))


def test_a_decision_with_one_reduced_item_becomes_approve_partly_by_itself(world: World) -> None:
    app, (first, second) = in_decision(world, "1500", "900")
    decider = sign_in(Client(), world.decider)
    response = decide(
        decider,
        app,
        {
            f"item{first.pk}-verdict": "approve",
            f"item{second.pk}-verdict": "reduce",
            f"item{second.pk}-amount": "500",
            f"item{second.pk}-reason": "reduced_to_limit",
        },
        follow=True,
    )
    app.refresh_from_db()
    assert app.state == "approved"
    decision = app.decisions.get()
    assert decision.outcome == "approve_partly"
    assert {di.need_item_id: di.amount.amount for di in decision.items.all()} == {
        first.pk: 1500,
        second.pk: 500,
    }
    assert f"Application {app.reference} is partly approved: SEK 2,000.00 granted." in (
        messages_of(response)
    )


def test_a_refused_decision_keeps_the_amounts_typed(world: World) -> None:
    app, (first, second) = in_decision(world, "1500", "900")
    decider = sign_in(Client(), world.decider)
    response = decide(
        decider,
        app,
        {
            f"item{first.pk}-verdict": "reduce",
            f"item{first.pk}-amount": "1 200",
            f"item{first.pk}-reason": "reduced_to_limit",
            f"item{second.pk}-verdict": "reduce",
            f"item{second.pk}-amount": "950",
            f"item{second.pk}-reason": "other",
            f"item{second.pk}-reason_text": "Delvis betalt av kommunen",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "less than SEK 900.00" in html
    assert 'aria-invalid="true"' in field(html, f"item{second.pk}-amount")
    assert 'value="1 200"' in field(html, f"item{first.pk}-amount")
    assert 'value="950"' in field(html, f"item{second.pk}-amount")
    assert selected(html, f"item{first.pk}-reason") == "reduced_to_limit"
    assert selected(html, f"item{second.pk}-reason") == "other"
    assert 'value="Delvis betalt av kommunen"' in field(html, f"item{second.pk}-reason_text")
    app.refresh_from_db()
    assert app.state == "ready_for_decision"
    assert not app.decisions.exists()


def test_other_reason_is_written_out_and_kept_under_the_persons_key(world: World) -> None:
    app, (first, second) = in_decision(world, "1500", "900")
    decider = sign_in(Client(), world.decider)
    data = {
        f"item{first.pk}-verdict": "approve",
        f"item{second.pk}-verdict": "reject",
        f"item{second.pk}-reason": "other",
    }
    response = decide(decider, app, data)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in field(response.content.decode(), f"item{second.pk}-reason_text")
    decide(decider, app, {**data, f"item{second.pk}-reason_text": "Behovet är redan täckt"})
    row = DecisionItem.objects.get(need_item=second)
    assert row.reason == "other"
    assert row.reason_text == "Behovet är redan täckt"
    assert "Behovet" not in row.encrypted_reason_text, "stored encrypted"
    assert app.decisions.get().outcome == "approve_partly"


def test_after_the_first_signature_the_page_says_awaiting_second_signature_and_the_cosigner_sees_each_item(  # noqa: E501
    world: World,
) -> None:
    app, (first, second) = in_decision(world, "8000", "4000")  # above the 10 000 threshold
    decider = sign_in(Client(), world.decider)
    response = decide(
        decider,
        app,
        {
            f"item{first.pk}-verdict": "approve",
            f"item{second.pk}-verdict": "reduce",
            f"item{second.pk}-amount": "2500",
            f"item{second.pk}-reason": "reduced_to_limit",
        },
        follow=True,
    )
    assert (
        f"The decision on {app.reference} is signed — awaiting a second signature."
        in messages_of(response)
    )
    html = response.content.decode()
    state = re.search(r'<strong class="state">([^<]*)</strong>', html)
    assert state and state.group(1) == "Awaiting a second signature"
    assert "Sign the decision" not in html, "the first signer does not sign twice"
    cosigner_page = page(sign_in(Client(), world.decider2), app)
    pending = cosigner_page[cosigner_page.index('id="pending-decision"') :]
    pending = pending[: pending.index("</section>")]
    for amount in ("SEK 8,000.00", "SEK 2,500.00", "SEK 4,000.00", "SEK 10,500.00"):
        assert amount in pending, amount
    assert "Reduced to the fund&#x27;s limit" in pending
    assert "Sign the decision" in pending
    assert 'data-confirm="Sign the decision on' in pending
    assert "2 items, SEK 10,500.00 granted" in pending
    second_signer = sign_in(Client(), world.decider2)
    response = second_signer.post(
        reverse("web:application_transition", args=[app.reference, "approve_partly"]),
        follow=True,
    )
    app.refresh_from_db()
    assert app.state == "approved"
    assert app.decisions.get().status == DecisionStatus.EFFECTIVE
    assert f"Application {app.reference} is partly approved: SEK 10,500.00 granted." in (
        messages_of(response)
    )


def confirm_of(html: str, step: str) -> str:
    found = re.search(rf'data-step="{step}"[^>]*data-confirm="([^"]+)"', html)
    assert found, f"no confirmation on {step}"
    return found.group(1)


def test_irreversible_steps_ask_before_they_go(world: World) -> None:
    app, _items = in_decision(world, "1500")
    html = page(sign_in(Client(), world.decider), app)
    assert app.reference in confirm_of(html, "decide")
    assert "cannot be undone" in confirm_of(html, "decide")

    submitted = world.run(world.new_application("700"), "submit", world.ombud.user)
    html = page(sign_in(Client(), world.officer), submitted)
    assert confirm_of(html, "withdraw") == (
        f"Withdraw application {submitted.reference}? This cannot be undone."
    )
    asked = world.run(submitted, "request_attestation", world.officer)
    html = page(sign_in(Client(), world.ombud.user), asked)
    assert asked.reference in confirm_of(html, "decline_attestation")

    checked = world.to_statutory_check(world.new_application("600"))
    world.assess_all(checked, outcome="obliged", authority="social_services", legal_basis="sol_4_1")
    html = page(sign_in(Client(), world.officer), checked)
    assert f"Refer {checked.reference} to the authority?" in confirm_of(html, "refer")

    approved = world.to_approved(world.new_application("500"))
    approved = world.run(approved, "schedule_payout", world.treasurer)
    world.send_payouts(approved)
    html = page(sign_in(Client(), world.treasurer), approved)
    assert approved.reference in confirm_of(html, "confirm_paid")


def test_messages_after_a_step_name_the_case(world: World) -> None:
    app = world.run(world.new_application("700"), "submit", world.ombud.user)
    officer = sign_in(Client(), world.officer)
    response = officer.post(
        reverse("web:application_transition", args=[app.reference, "request_attestation"]),
        follow=True,
    )
    assert f"The ombud is asked to attest the need in {app.reference}." in messages_of(response)
    response = officer.post(
        reverse("web:application_transition", args=[app.reference, "withdraw"]),
        {"reason": "duplicate"},
        follow=True,
    )
    assert messages_of(response) == [f"Application {app.reference} is withdrawn."]

    rejected, (item,) = in_decision(world, "1500")
    response = decide(
        sign_in(Client(), world.decider),
        rejected,
        {f"item{item.pk}-verdict": "reject", f"item{item.pk}-reason": "outside_purpose"},
        follow=True,
    )
    assert messages_of(response) == [f"Application {rejected.reference} is rejected."]
    assert Decision.objects.get(application=rejected).outcome == "reject"
