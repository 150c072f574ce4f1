"""Issue #17: each step's data is a typed input, so mypy checks the path from a form or a
serializer to the service; the edges that receive a step by name build it with one parser."""

from __future__ import annotations

import inspect
import typing
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from core.exceptions import TransitionNotAvailable, ValidationFailed
from workflows import services, step_inputs
from workflows.checks import machine_transitions, transition_input_problems
from workflows.models import ClosingReason
from workflows.step_inputs import Attest, Decide, DecidedItem, SchedulePayout, StepInput, Withdraw


def test_transition_takes_the_case_then_the_actor_and_a_typed_step_input():
    parameters = inspect.signature(services.transition).parameters
    assert list(parameters) == ["application", "actor", "step"]
    assert parameters["actor"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["step"].kind is inspect.Parameter.KEYWORD_ONLY
    assert typing.get_type_hints(services.transition)["step"] is StepInput


def test_every_transition_has_its_input_type():
    names = {t.name for t in machine_transitions()}
    assert set(step_inputs.INPUTS) == names
    assert transition_input_problems() == []
    for name in names:
        assert services.HANDLERS[name].input_type is step_inputs.INPUTS[name]


def test_a_transition_without_an_input_type_is_detected():
    real = machine_transitions()
    teleport = SimpleNamespace(name="teleport", source="draft", permission=None)
    handlers = {**services.HANDLERS, "teleport": services.HANDLERS["submit"]}
    assert transition_input_problems([*real, teleport], handlers=handlers) == [
        "transition 'teleport' has no input type in workflows.step_inputs",
        "transition 'teleport' takes Submit, but its input type is None",
    ]
    inputs = {**step_inputs.INPUTS, "withdraw": step_inputs.GiveUpPayout}
    assert transition_input_problems(real, inputs=inputs) == [
        "transition 'withdraw' takes Withdraw, but its input type is GiveUpPayout"
    ]


def test_the_input_names_its_step():
    assert Withdraw(reason=ClosingReason.OTHER).name == "withdraw"
    assert Decide(outcome="approve_partly").name == "approve_partly"
    for name, kind in step_inputs.INPUTS.items():
        assert step_inputs.parse(name, {}).name == name
        assert isinstance(step_inputs.parse(name, {}), kind)


def test_parse_refuses_an_unknown_step_in_words():
    with pytest.raises(TransitionNotAvailable, match="There is no step called “teleport”"):
        step_inputs.parse("teleport", {})


def test_parse_types_the_fields_a_step_takes_and_ignores_the_others():
    assert step_inputs.parse("attest", {"need_confirmed": True, "reason": "x"}) == Attest(
        need_confirmed=True, method="portal"
    )
    assert step_inputs.parse("attest", {"need_confirmed": "yes"}) == Attest(need_confirmed=False)
    decided = step_inputs.parse(
        "approve_partly",
        {"items": [{"item": "7", "amount": Decimal("10")}, {"item": 8}], "reason": "within_rules"},
    )
    assert decided == Decide(
        outcome="approve_partly",
        items=(DecidedItem(item=7, amount=Decimal("10")), DecidedItem(item=8, amount=0)),
        reason="within_rules",
    )
    assert step_inputs.parse("schedule_payout", {"payees": {"3": 12}}) == SchedulePayout(
        payees={"3": 12}
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("approve", {"items": "lots"}, "The decided amounts must be a list of need items"),
        ("reject", {"items": [{"amount": "1"}]}, "Each decided amount must name its need item."),
        ("schedule_payout", {"payees": [1, 2]}, "Payees must be given per need item"),
        ("request_completion", {"message": ["a"]}, "Message: “['a']” is not text."),
        ("payout_failed", {"payment_orders": "7"}, "must be a list of order numbers"),
    ],
)
def test_parse_refuses_fields_that_cannot_be_typed_in_words(
    name: str, data: dict[str, Any], message: str
):
    with pytest.raises(ValidationFailed, match=message.replace("[", r"\[").replace("]", r"\]")):
        step_inputs.parse(name, data)


def test_a_step_run_with_another_steps_input_is_refused(world):
    app = world.new_application("100")
    with pytest.raises(TypeError):
        services.HANDLERS["withdraw"](
            services.base.Step(app, "withdraw", world.officer, "officer", Attest(True))
        )
