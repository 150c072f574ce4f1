"""What other apps do at the workflow's steps, run inside the step's own transaction.

The workflow does not know the ledger. An app that must act at a step (the accounting app
books the decided grant, creates and settles the payment orders, reverses what is released)
registers a handler here at start-up, in its ``AppConfig.ready``. Handlers run in the order
they were registered and inside the transaction of :func:`workflows.services.transition`, so
the case's state and everything they change commit together or not at all; a handler refuses
the step by raising ``ValidationFailed``. What a handler returns is added to the step's audit
event (ids and codes only).

Explicit rather than Django signals: each event is a typed dataclass, :func:`handlers_of`
lists who acts on it, and a system check (``workflows.checks``) refuses to start when a step
that moves money has nobody to book it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from fund.models import Application
    from workflows.models import Decision


@dataclass(frozen=True)
class DecisionTookEffect:
    """A decision granted money and took effect: the grant is now an obligation."""

    decision: Decision
    actor: Any


@dataclass(frozen=True)
class PayoutScheduled:
    """The approved amounts are to be paid, to one payee or one per item."""

    application: Application
    actor: Any
    payee: Any = None
    payees: Mapping[Any, Any] | None = None


@dataclass(frozen=True)
class PayoutConfirmed:
    """An officer confirmed the case paid."""

    application: Application
    actor: Any


@dataclass(frozen=True)
class PayoutFailed:
    """The payout failed for ``reason`` (a code); ``already`` are orders already failed."""

    application: Application
    actor: Any
    reason: str
    already: Sequence[int] = ()


@dataclass(frozen=True)
class GrantReleased:
    """What was granted and not paid is released: withdrawal, omprövning or payout given up."""

    application: Application
    actor: Any
    reason: str
    role: str


StepEvent = DecisionTookEffect | PayoutScheduled | PayoutConfirmed | PayoutFailed | GrantReleased
E = TypeVar("E", DecisionTookEffect, PayoutScheduled, PayoutConfirmed, PayoutFailed, GrantReleased)
Handler = Callable[[E], "Mapping[str, Any] | None"]
#: Why a step cannot run now on this case (empty: it can); shown as the refusal and used to
#: offer no button for it.
Guard = Callable[["Application"], list[str]]

_handlers: dict[type, list[Callable[[Any], Mapping[str, Any] | None]]] = {}
_guards: dict[str, list[Guard]] = {}

#: The events that move or oblige money: each must have a handler, or the books miss it.
MONEY_EVENTS: tuple[type, ...] = (
    DecisionTookEffect,
    PayoutScheduled,
    PayoutConfirmed,
    PayoutFailed,
    GrantReleased,
)


def on(event_type: type[E], handler: Handler[E]) -> None:
    """Run ``handler`` at every ``event_type`` (once, however often it is registered)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def guard(step: str, check: Guard) -> None:
    """Refuse ``step`` (and offer no button for it) while ``check`` finds problems."""
    checks = _guards.setdefault(step, [])
    if check not in checks:
        checks.append(check)


def handlers_of(event_type: type) -> list[Callable[[Any], Mapping[str, Any] | None]]:
    return list(_handlers.get(event_type, ()))


def guarded_steps() -> frozenset[str]:
    return frozenset(_guards)


def run(event: StepEvent) -> dict[str, Any]:
    """Run the event's handlers in order; their additions to the audit payload, merged."""
    payload: dict[str, Any] = {}
    for handler in _handlers.get(type(event), ()):
        added = handler(event)
        if added:
            payload.update(added)
    return payload


def problems(application: Application, step: str) -> list[str]:
    found: list[str] = []
    for check in _guards.get(step, ()):
        found += check(application)
    return found
