"""Review of #19: the one decision form and the co-signer's signature (item 4)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from fund.models import Application, Fund
from tests.factories import UserFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from workflows.models import Decision, DecisionStatus


def decide(client: Client, app: Application, data: dict[str, str], **kw: Any) -> Any:
    return client.post(reverse("web:application_decide", args=[app.reference]), data, **kw)


def in_decision(world: World, *amounts: str) -> tuple[Application, list[Any]]:
    app = world.to_decision(world.new_application(*amounts))
    return app, list(app.items.order_by("position"))


def sign_form(html: str) -> tuple[str, dict[str, str]]:
    """The co-signer's form as the page shows it: its address and every field it sends."""
    section = html[html.index('id="pending-decision"') :]
    section = section[: section.index("</section>")]
    form = re.search(r'<form method="post"[^>]*? action="([^"]+)"[^>]*>(.*?)</form>', section, re.S)
    assert form, "no signature form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    fields.pop("csrfmiddlewaretoken", None)
    return form.group(1), fields


def test_the_one_form_refuses_a_grant_above_the_funds_item_limit(world: World) -> None:
    app, (item,) = in_decision(world, "9000")
    Fund.objects.filter(pk=app.fund_id).update(max_per_item=Decimal("5000"))
    response = decide(sign_in(Client(), world.decider), app, {f"item{item.pk}-verdict": "approve"})
    assert response.status_code == 400
    app.refresh_from_db()
    assert app.state == "ready_for_decision"
    assert not app.decisions.exists()


def test_the_one_form_above_the_threshold_needs_a_second_signer(world: World) -> None:
    app, (first, second) = in_decision(world, "8000", "4000")
    decider = sign_in(Client(), world.decider)
    decide(
        decider, app, {f"item{first.pk}-verdict": "approve", f"item{second.pk}-verdict": "approve"}
    )
    app.refresh_from_db()
    assert app.state == "ready_for_decision"
    assert app.decisions.get().status == DecisionStatus.AWAITING_SIGNATURE
    # The first signer can neither sign again by the old step address nor by the form again.
    decider.post(reverse("web:application_transition", args=[app.reference, "approve"]))
    decide(
        decider, app, {f"item{first.pk}-verdict": "approve", f"item{second.pk}-verdict": "approve"}
    )
    app.refresh_from_db()
    assert app.state == "ready_for_decision"
    assert app.decisions.get().signatures.count() == 1


def test_the_cosigner_signs_only_the_decision_they_were_shown(world: World) -> None:
    app, (first, second) = in_decision(world, "8000", "4000")
    decider = sign_in(Client(), world.decider)
    decide(
        decider,
        app,
        {
            f"item{first.pk}-verdict": "approve",
            f"item{second.pk}-verdict": "reduce",
            f"item{second.pk}-amount": "2500",
            f"item{second.pk}-reason": "reduced_to_limit",
        },
    )
    shown = Decision.objects.get(application=app)
    cosigner = sign_in(Client(), world.decider2)
    stale_page = cosigner.get(reverse("web:application", args=[app.reference])).content.decode()
    assert "SEK 10,500.00" in stale_page
    address, fields = sign_form(stale_page)
    # Meanwhile the fund's item limit is lowered: the pending decision no longer fits and a
    # third decision-maker decides again, the same outcome with other amounts.
    Fund.objects.filter(pk=app.fund_id).update(max_per_item=Decimal("7000"))
    third = UserFactory(roles=["decision_maker"])
    world.fund.handlers.add(third)
    decide(
        sign_in(Client(), third),
        app,
        {
            f"item{first.pk}-verdict": "reduce",
            f"item{first.pk}-amount": "7000",
            f"item{first.pk}-reason": "reduced_to_limit",
            f"item{second.pk}-verdict": "approve",
        },
    )
    replaced = Decision.objects.get(application=app, status=DecisionStatus.AWAITING_SIGNATURE)
    assert replaced.pk != shown.pk and replaced.outcome == shown.outcome
    cosigner.post(address, fields)  # the page as it was read: SEK 10,500.00
    replaced.refresh_from_db()
    assert replaced.status == DecisionStatus.AWAITING_SIGNATURE, (
        "the co-signer signed SEK 11,000.00 having been shown SEK 10,500.00"
    )


def test_the_written_out_reason_never_reaches_the_audit_log(world: World) -> None:
    app, (first, second) = in_decision(world, "1500", "900")
    before = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True)[0]
    decide(
        sign_in(Client(), world.decider),
        app,
        {
            f"item{first.pk}-verdict": "approve",
            f"item{second.pk}-verdict": "reject",
            f"item{second.pk}-reason": "other",
            f"item{second.pk}-reason_text": "Hemligt skäl Zyxwv",
        },
    )
    app.refresh_from_db()
    assert app.state == "approved"
    logged = " ".join(str(e.payload) for e in AuditEvent.objects.filter(sequence__gt=before))
    assert "Zyxwv" not in logged
