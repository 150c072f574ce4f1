"""Issue #19, item 2: a komplettering is not a dead end.

The case's ombud changes the items of a draft or of a case returned for komplettering,
answers the request in words and resubmits in one step; the officer sees what changed.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from moneyed import Money

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from fund.states import State
from tests.factories import FundFactory, OmbudFactory
from tests.fund.test_no_plaintext_personal_data import _raw_database_bytes
from workflows.completion import (
    ItemEdit,
    answer_completion,
    edit_application,
    update_application,
)
from workflows.models import (
    CompletionItemChange,
    CompletionRequest,
    ItemChangeKind,
    StatutoryAssessment,
)

ANSWER = "Kvittot från Synsam bifogas, Answerina Secretsson"


def returned_case(world, *amounts: str):
    """A two-item case in the statutory check, returned to the ombud for komplettering."""
    app = world.to_statutory_check(world.new_application(*(amounts or ("1500", "800"))))
    world.assess_all(app)
    return world.run(app, "request_completion", world.officer, message="Kvitto saknas")


def kept(app, **changes):
    """The case's items as edits, with ``changes`` (position -> ItemEdit fields) applied."""
    edits = []
    for item in app.items.order_by("position"):
        values = {
            "item": item.pk,
            "category": item.category,
            "amount": str(item.requested_amount.amount),
            "description": item.description,
        }
        values.update(changes.get(f"item{item.position}", {}))
        edits.append(ItemEdit(**values))
    return edits


def test_ombud_edits_a_returned_case_answers_and_resubmits_in_one_step(world):
    app = returned_case(world)
    request = app.completion_requests.get()
    edits = kept(app, item2={"amount": "950"})
    edits.append(ItemEdit(category="medicine", amount="300", description="Receptbelagt"))

    app = update_application(app, actor=world.ombud.user, items=edits, answer=ANSWER, send=True)

    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    request.refresh_from_db()
    assert request.resolved_at is not None
    assert request.answer == ANSWER
    amounts = [i.requested_amount for i in app.items.order_by("position")]
    assert amounts == [Money("1500", "SEK"), Money("950", "SEK"), Money("300", "SEK")]
    assert app.items.get(position=3).description == "Receptbelagt"


def test_officer_sees_the_item_changes_of_a_komplettering(world):
    app = returned_case(world, "1500", "800", "200")
    request = app.completion_requests.get()
    edits = kept(app, item1={"category": "medicine"}, item2={"amount": "950"})
    del edits[2]  # item 3 removed
    edits.append(ItemEdit(category="clothes", amount="400"))

    edit_application(app, actor=world.ombud.user, items=edits)

    changes = {
        (c.kind, c.position): c for c in CompletionItemChange.objects.filter(request=request)
    }
    assert set(changes) == {
        (ItemChangeKind.CHANGED, 1),
        (ItemChangeKind.CHANGED, 2),
        (ItemChangeKind.REMOVED, 3),
        (ItemChangeKind.ADDED, 3),
    }
    first = changes[(ItemChangeKind.CHANGED, 1)]
    assert (first.category_before, first.category_after) == ("glasses", "medicine")
    second = changes[(ItemChangeKind.CHANGED, 2)]
    assert (second.amount_before, second.amount_after) == (
        Money("800", "SEK"),
        Money("950", "SEK"),
    )
    assert changes[(ItemChangeKind.REMOVED, 3)].amount_before == Money("200", "SEK")
    assert changes[(ItemChangeKind.ADDED, 3)].amount_after == Money("400", "SEK")


def test_two_saves_of_one_komplettering_keep_the_first_before_and_the_last_after(world):
    app = returned_case(world)
    edit_application(app, actor=world.ombud.user, items=kept(app, item2={"amount": "950"}))
    edit_application(app, actor=world.ombud.user, items=kept(app, item2={"amount": "990"}))
    change = CompletionItemChange.objects.get()
    assert (change.amount_before, change.amount_after) == (
        Money("800", "SEK"),
        Money("990", "SEK"),
    )
    # Back to what it was: nothing changed, nothing shown.
    edit_application(app, actor=world.ombud.user, items=kept(app, item2={"amount": "800"}))
    assert not CompletionItemChange.objects.exists()


def test_changed_item_is_assessed_again_even_when_the_case_came_from_decision(world):
    app = world.to_decision(world.new_application("1500", "800"))
    app = world.run(app, "request_completion", world.officer, message="Kvitto saknas")
    app = update_application(
        app, actor=world.ombud.user, items=kept(app, item2={"amount": "950"}), send=True
    )
    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    assert not StatutoryAssessment.objects.filter(need_item__position=2).exists()
    assert StatutoryAssessment.objects.filter(need_item__position=1).exists()


def test_a_description_only_change_keeps_the_case_where_it_was(world):
    app = world.to_decision(world.new_application("1500"))
    app = world.run(app, "request_completion", world.officer, message="Beskriv behovet")
    app = update_application(
        app, actor=world.ombud.user, items=kept(app, item1={"description": "Nya glas"}), send=True
    )
    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    change = CompletionItemChange.objects.get()
    assert change.description_changed and change.amount_before == change.amount_after


def test_ombud_edits_a_draft_and_submits_it(world):
    app = world.new_application("1500")
    app = update_application(
        app, actor=world.ombud.user, items=kept(app, item1={"amount": "1700"}), send=True
    )
    app.refresh_from_db()
    assert app.state == State.SUBMITTED
    assert app.items.get().requested_amount == Money("1700", "SEK")
    assert not CompletionItemChange.objects.exists()  # nobody saw the draft: no change list


def test_another_ombud_cannot_edit_or_answer(world):
    app = returned_case(world)
    other = OmbudFactory().user
    with pytest.raises(PermissionDenied):
        edit_application(app, actor=other, items=kept(app, item1={"amount": "1"}))
    with pytest.raises(PermissionDenied):
        answer_completion(app.completion_requests.get(), actor=other, text="Nej")
    assert app.items.get(position=1).requested_amount == Money("1500", "SEK")


def test_officer_cannot_edit_the_ombuds_items(world):
    app = returned_case(world)
    with pytest.raises(PermissionDenied):
        edit_application(app, actor=world.officer, items=kept(app, item1={"amount": "1"}))


@pytest.mark.parametrize("walk", ["to_decision", "to_statutory_check"])
def test_a_case_in_decision_or_assessment_cannot_be_edited(world, walk):
    app = getattr(world, walk)(world.new_application("1500"))
    with pytest.raises(PermissionDenied, match="only of a draft or of a case waiting"):
        edit_application(app, actor=world.ombud.user, items=kept(app, item1={"amount": "1"}))
    assert app.items.get().requested_amount == Money("1500", "SEK")


def test_the_fund_rules_are_checked_again_with_every_problem_at_once(world):
    fund = world.fund
    fund.allowed_categories = ["glasses", "medicine"]
    fund.max_per_item = Money("2000", "SEK")
    fund.save()
    app = returned_case(world)
    edits = kept(app, item1={"category": "housing"}, item2={"amount": "2500"})
    with pytest.raises(ValidationFailed) as refused:
        edit_application(app, actor=world.ombud.user, items=edits)
    assert len(refused.value.messages) == 2
    assert "Item 1" in refused.value.messages[0] and "Housing" in refused.value.messages[0]
    assert "Item 2" in refused.value.messages[1] and "limit" in refused.value.messages[1]
    assert app.items.get(position=2).requested_amount == Money("800", "SEK")


def test_a_category_of_another_fund_is_refused(world):
    FundFactory(code="barn", name="Barnfonden", allowed_categories=["child_equipment"])
    world.fund.allowed_categories = ["glasses"]
    world.fund.save()
    app = returned_case(world)
    with pytest.raises(ValidationFailed, match="does not grant support"):
        edit_application(
            app, actor=world.ombud.user, items=kept(app, item1={"category": "child_equipment"})
        )


def test_an_item_of_another_case_cannot_be_named(world):
    app = returned_case(world)
    other = world.new_application("500")
    edits = [ItemEdit(item=other.items.get().pk, category="glasses", amount="1")]
    with pytest.raises(ValidationFailed):
        edit_application(app, actor=world.ombud.user, items=edits)
    assert other.items.get().requested_amount == Money("500", "SEK")


def test_the_answer_text_never_appears_in_the_audit_payload(world):
    app = returned_case(world)
    update_application(
        app,
        actor=world.ombud.user,
        items=kept(app, item1={"description": "Glasögon Answerina"}, item2={"amount": "950"}),
        answer=ANSWER,
        send=True,
    )
    events = AuditEvent.objects.filter(object_ref=app.reference)
    actions = set(events.values_list("action", flat=True))
    assert {"completion.answered", "application.items_changed", "application.resubmit"} <= actions
    for event in events:
        text = json.dumps(event.payload, default=str)
        assert "Answerina" not in text and "Synsam" not in text
    changed = events.get(action="application.items_changed").payload
    first, second = changed["changes"]
    assert first["description_changed"] is True and "description" not in first
    assert Decimal(str(second["requested_before"])) == Decimal("800")
    assert Decimal(str(second["requested"])) == Decimal("950")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_answer_is_encrypted_at_rest(world, tmp_path):
    app = returned_case(world)
    request = answer_completion(app.completion_requests.get(), actor=world.ombud.user, text=ANSWER)
    request.refresh_from_db()
    assert request.answer == ANSWER  # really stored, readable
    raw = _raw_database_bytes(tmp_path)
    assert app.reference.encode() in raw  # the scan does see the data
    for value in (ANSWER, "Answerina", "Synsam"):
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value


def test_the_persons_report_holds_the_answer_and_erasure_removes_it(world):
    from datetime import date

    from privacy.erasure import erase_person
    from privacy.subject_access import subject_access_report

    app = returned_case(world)
    app = update_application(app, actor=world.ombud.user, items=kept(app), answer=ANSWER, send=True)
    [request] = subject_access_report(app.beneficiary, actor=world.admin)["applications"][0][
        "completion_requests"
    ]
    assert request["answer"] == ANSWER and request["answered_at"]

    app = world.run(app, "withdraw", world.ombud.user, reason="applicant_request")
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    stored = CompletionRequest.objects.get(application_id=app.pk)  # read afresh
    assert stored.encrypted_answer and stored.answer == "" and stored.answered_at is not None
