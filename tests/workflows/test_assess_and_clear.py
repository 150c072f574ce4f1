"""Issue #19: the officer assesses a two-item case and sends it to decision in one step.

``assess_and_clear`` records every item's statutory assessment and then clears the case for
decision in one transaction: both happen, with their audit events, or neither does.
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from fund.models import Application
from fund.states import State
from tests.fixtures import World
from workflows import services
from workflows.models import Obligation, StatutoryAssessment
from workflows.services import AssessmentInput, assess_and_clear


def _two_items_in_check(world: World) -> Application:
    return world.to_statutory_check(world.new_application("1500", "800"))


def _inputs(app: Application, *outcomes: str) -> list[AssessmentInput]:
    extra = {"authority": "social_services", "legal_basis": "sol_4_1"}
    return [
        AssessmentInput(
            item=item.pk, outcome=outcome, **(extra if outcome != "not_obliged" else {})
        )
        for item, outcome in zip(app.items.order_by("position"), outcomes, strict=True)
    ]


def test_officer_assesses_every_item_and_sends_the_case_to_decision_at_once(
    world: World,
) -> None:
    app = _two_items_in_check(world)
    given = _inputs(app, Obligation.NOT_OBLIGED, Obligation.NOT_OBLIGED)

    app = assess_and_clear(app, actor=world.officer, assessments=given)

    assert app.state == State.READY_FOR_DECISION
    app.refresh_from_db()
    assert app.state == State.READY_FOR_DECISION
    assert StatutoryAssessment.objects.filter(need_item__application=app).count() == 2
    actions = list(
        AuditEvent.objects.filter(object_ref=app.reference)
        .order_by("-sequence")
        .values_list("action", flat=True)[:3]
    )
    assert actions == ["application.clear", "statutory.assessed", "statutory.assessed"]


def test_a_refused_clear_keeps_no_assessment_and_the_case_stays_in_the_check(
    world: World,
) -> None:
    """Society obliged for every item: the case is referred, not cleared; nothing is kept, so
    the officer's form comes back as typed and nothing half-done is on the record."""
    app = _two_items_in_check(world)
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed, match="refer the case"):
        assess_and_clear(
            app,
            actor=world.officer,
            assessments=_inputs(app, Obligation.OBLIGED, Obligation.OBLIGED),
        )

    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    assert not StatutoryAssessment.objects.filter(need_item__application=app).exists()
    assert AuditEvent.objects.count() == before


def test_assess_and_clear_reports_every_items_problems_and_saves_nothing(world: World) -> None:
    app = _two_items_in_check(world)
    first, second = app.items.order_by("position")
    given = [
        AssessmentInput(item=first.pk, outcome=""),
        AssessmentInput(item=second.pk, outcome=Obligation.PARTLY),
    ]

    with pytest.raises(services.ItemProblems) as refused:
        assess_and_clear(app, actor=world.officer, assessments=given)

    assert set(refused.value.by_item) == {first.pk, second.pk}
    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    assert not StatutoryAssessment.objects.filter(need_item__application=app).exists()


def test_only_an_officer_may_assess_and_clear(world: World) -> None:
    app = _two_items_in_check(world)

    with pytest.raises(PermissionDenied):
        assess_and_clear(
            app,
            actor=world.decider,
            assessments=_inputs(app, Obligation.NOT_OBLIGED, Obligation.NOT_OBLIGED),
        )

    app.refresh_from_db()
    assert app.state == State.STATUTORY_CHECK
    assert not StatutoryAssessment.objects.filter(need_item__application=app).exists()
