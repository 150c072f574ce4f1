"""What every step shares: the locked case, the step in progress, firing it with its audit event."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from moneyed import Money

from audit.services import record_event
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    ValidationFailed,
)
from fund.models import (
    Application,
)
from fund.states import State
from workflows.models import (
    Decision,
    DecisionStatus,
)
from workflows.step_inputs import StepInput

ZERO = Money(0, "SEK")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


#: The most characters of a person's name or contact (as the forms and the API allow).
PERSON_TEXT_MAX = 200


#: Swedish county letters (länsbokstav): AB, C, D, … BD.
COUNTY_CODE = re.compile(r"[A-Z]{1,2}")


#: The most characters of an evidence reference (kept encrypted, under the person's key).
REFERENCE_TEXT_MAX = 120


#: The most characters of a komplettering message (as the API allows).
MESSAGE_MAX = 2000


class ItemProblems(ValidationFailed):
    """Refusals per need item (id) and field, so a form shows each one at its field; the
    flat ``messages`` name the item's position for everyone else (the API, a command)."""

    def __init__(self, by_item: dict[int, dict[str, list[str]]], positions: dict[int, int]):
        self.by_item = by_item
        super().__init__(
            _("Item %(n)s: %(problem)s") % {"n": positions[pk], "problem": message}
            for pk, fields in by_item.items()
            for messages in fields.values()
            for message in messages
        )


def _locked(application: Application) -> Application:
    """The application locked for this transaction; a conflict if its state moved on."""
    current = (
        Application.objects.select_for_update(of=("self",))
        .select_related("fund", "beneficiary", "ombud__organisation")
        .get(pk=application.pk)
    )
    if current.state != application.state:
        raise ConflictError(
            _(
                "%(ref)s changed while you were working on it (now: %(state)s). "
                "Reload it and try again."
            )
            % {"ref": current.reference, "state": State(current.state).label}
        )
    return current


I = TypeVar("I", bound=StepInput, covariant=True)  # noqa: E741


@dataclass(frozen=True)
class Step(Generic[I]):
    """One transition in progress: the locked case, who runs it, in which role, with what."""

    application: Application
    name: str
    actor: Any
    role: str
    data: I
    payload: dict[str, Any] = field(default_factory=dict)


class StepHandler:
    """A step's handler with the input type it takes, so mypy checks the pair where it is
    registered and a step never runs with another step's input."""

    def __init__(self, input_type: type[I], run: Callable[[Step[I]], None]) -> None:
        self.input_type: type[StepInput] = input_type
        # Sound: __call__ runs it only with a step whose data is an ``input_type``.
        self._run = cast("Callable[[Step[StepInput]], None]", run)

    def __call__(self, step: Step[StepInput]) -> None:
        if not isinstance(step.data, self.input_type):
            raise TypeError(
                f"{step.name} takes {self.input_type.__name__}, not {type(step.data).__name__}"
            )
        self._run(step)


def _fire(step: Step[StepInput], **extra: Any) -> None:
    """Run the machine's method, save, and append the audit event."""
    app = step.application
    source = app.state
    getattr(app, step.name)()
    now = timezone.now()
    app.state_changed_at = now
    try:
        app.save()
    except ConcurrentTransition as exc:
        raise ConflictError(
            _("%(ref)s changed while you were working on it. Reload it and try again.")
            % {"ref": app.reference}
        ) from exc
    record_event(
        action=f"application.{step.name}",
        actor=step.actor,
        role=step.role,
        object_type="application",
        object_ref=app.reference,
        payload={"from": source, "to": app.state, "fund": app.fund.code, **step.payload, **extra},
    )


def _choice(value: str, choices: type, message: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        raise ValidationFailed(message)
    return value


def _effective_decision(app: Application) -> Decision | None:
    return app.decisions.filter(status=DecisionStatus.EFFECTIVE).order_by("-effective_at").first()
