"""Review of #19: the ombud's one-page edit of a draft or a returned case (item 2)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from fund.models import Application, NeedItem
from fund.states import State
from tests.factories import OmbudFactory
from tests.fixtures import World
from tests.web.conftest import sign_in
from tests.web.test_ombud_edit import edit_data, returned_case
from workflows.models import DecisionStatus


def edit(client: Client, app: Application, data: dict[str, str]) -> int:
    return client.post(reverse("web:ombud_edit", args=[app.reference]), data).status_code


def amounts(app: Application) -> list[int]:
    return [int(i.requested_amount.amount) for i in NeedItem.objects.filter(application=app)]


def test_another_ombud_can_neither_open_nor_change_the_case(world: World) -> None:
    app = returned_case(world)
    stranger = sign_in(Client(), OmbudFactory().user)
    url = reverse("web:ombud_edit", args=[app.reference])
    assert stranger.get(url).status_code == 404
    assert edit(stranger, app, edit_data(app, **{"need-0-amount": "1"})) == 404
    assert sorted(amounts(app)) == [800, 1500]


def test_the_ombud_cannot_change_items_once_the_case_left_komplettering(world: World) -> None:
    app = returned_case(world)
    app = world.run(app, "resubmit", world.ombud.user)
    data = edit_data(app, **{"need-0-amount": "19999", "send": "1"})
    edit(sign_in(Client(), world.ombud.user), app, data)
    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    assert sorted(amounts(app)) == [800, 1500]


def test_the_ombud_cannot_change_an_approved_case(world: World) -> None:
    app = world.to_approved(world.new_application("1500"))
    data = edit_data(app, **{"need-0-amount": "19999"})
    edit(sign_in(Client(), world.ombud.user), app, data)
    assert amounts(app) == [1500]


def test_an_item_of_another_case_cannot_be_pulled_into_this_one(world: World) -> None:
    app = returned_case(world)
    other = world.new_application("700")
    theirs = other.items.get()
    data = edit_data(app, **{"need-0-item": str(theirs.pk), "need-0-amount": "700"})
    assert edit(sign_in(Client(), world.ombud.user), app, data) == 400
    theirs.refresh_from_db()
    assert theirs.application_id == other.pk and int(theirs.requested_amount.amount) == 700
    assert sorted(amounts(app)) == [800, 1500]


def test_a_changed_amount_is_assessed_again_before_any_decision(world: World) -> None:
    app = world.to_decision(world.new_application("1500", "800"))
    app = world.run(app, "request_completion", world.officer, message="Kvitto saknas")
    data = edit_data(app, **{"need-0-amount": "15000", "send": "1"})
    edit(sign_in(Client(), world.ombud.user), app, data)
    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK, "back to the statutory check, not to decision"
    assert not NeedItem.objects.filter(
        application=app, requested_amount=15000, statutory_assessment__isnull=False
    ).exists()


def test_a_komplettering_during_a_pending_signature_lets_the_ombud_change_the_items(
    world: World,
) -> None:
    app = world.to_decision(world.new_application("8000", "4000"))  # above the threshold
    app = world.run(app, "approve", world.decider)
    assert app.decisions.get().status == DecisionStatus.AWAITING_SIGNATURE
    app = world.run(app, "request_completion", world.officer, message="Kvitto saknas")
    assert app.state == State.NEEDS_COMPLETION
    data = edit_data(app, **{"need-1-amount": "3500"})
    assert edit(sign_in(Client(), world.ombud.user), app, data) == 302
    assert sorted(amounts(app)) == [3500, 8000]


def test_the_items_changed_event_holds_codes_and_amounts_never_the_description(
    world: World,
) -> None:
    app = returned_case(world)
    data = edit_data(
        app,
        **{
            "need-0-description": "Glasögon hos Optiker Qwxyz",
            "need-2-category": "glasses",
            "need-2-amount": "300",
            "need-2-description": "Nytt behov Vbnmq",
            "completion-answer": "Svaret Plokij",
        },
    )
    assert edit(sign_in(Client(), world.ombud.user), app, data) == 302
    logged = " ".join(
        str(e.payload) + e.object_ref for e in AuditEvent.objects.filter(object_ref=app.reference)
    )
    for secret in ("Qwxyz", "Vbnmq", "Plokij"):
        assert secret not in logged
    request = app.completion_requests.get()
    assert request.answer == "Svaret Plokij"
    assert "Plokij" not in request.encrypted_answer
