"""Template filters: amounts the Swedish way, state names, roles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from moneyed import Money

from core.roles import roles_of
from fund.money import format_money
from fund.states import State

register = template.Library()


@register.filter
def money(value: Money | Decimal | int | None) -> str:
    """``1 250,50 kr`` in Swedish, ``SEK 1,250.50`` in English; empty for no amount."""
    if value is None or value == "":
        return ""
    if isinstance(value, int):
        value = Decimal(value)
    return format_money(value)


@register.filter
def state_label(value: str) -> str:
    return str(State(value).label) if value in State.values else value


@register.filter
def has_role(user: Any, role: str) -> bool:
    return role in roles_of(user)


@register.filter
def transition_label(name: str) -> str:
    from web.labels import TRANSITION_LABELS

    return str(TRANSITION_LABELS.get(name, name))


@register.inclusion_tag("web/partials/audit_alert.html", takes_context=True)
def audit_alert(context: dict[str, Any]) -> dict[str, Any]:
    """A failed verification or checkpoint, shown where auditors and administrators look.

    The embedded mode may have no mail server: the page itself must say the log is broken.
    """
    from audit.checkpoints import latest_failure
    from core.roles import Role

    user = context.get("user")
    if user is None or not roles_of(user) & {Role.AUDITOR, Role.ADMINISTRATOR}:
        return {"failure": None}
    return {"failure": latest_failure()}
