"""Who is acting, for audit events recorded from signals (which do not know the request).

``AuditActorMiddleware`` remembers the request for the duration of the view; receivers ask
:func:`current_actor`. Tasks and commands can name their actor with :func:`acting_as`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_request: ContextVar[Any] = ContextVar("audit_request", default=None)
_actor: ContextVar[Any] = ContextVar("audit_actor", default=None)


def current_actor() -> Any:
    """The authenticated user of the current request or ``acting_as`` block, else None."""
    actor = _actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if getattr(user, "is_authenticated", False) else None


def current_role(*, actor: Any) -> str:
    """The role under which an actor changes access or fund rules."""
    if actor is None:
        return ""
    from core.roles import Role, has_role

    if has_role(actor, Role.ADMINISTRATOR):
        return str(Role.ADMINISTRATOR)
    return "superuser" if getattr(actor, "is_superuser", False) else ""


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


class AuditActorMiddleware:
    """Place after ``AuthenticationMiddleware``. The user is resolved only if an event needs it."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
