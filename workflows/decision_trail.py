"""Reading the audit log for people: an application's decision trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent

#: Each recorded action in words.
ACTION_LABELS: dict[str, Promise] = {
    "beneficiary.registered": _("Person registered"),
    "application.created": _("Application created"),
    "application.submit": _("Submitted"),
    "application.request_attestation": _("Ombud asked to attest the need"),
    "application.attest": _("Need attested by the ombud"),
    "application.decline_attestation": _("Ombud declined to attest"),
    "application.start_statutory_check": _("Statutory obligation check started"),
    "statutory.assessed": _("Statutory obligation assessed for an item"),
    "application.refer": _("Referred to the responsible authority"),
    "application.clear": _("Cleared for decision"),
    "application.approve": _("Approved"),
    "application.approve_partly": _("Partly approved"),
    "application.reject": _("Rejected"),
    "decision.signed": _("Decision signed, awaiting a second signature"),
    "application.schedule_payout": _("Payout scheduled"),
    "application.confirm_paid": _("Payment confirmed"),
    "application.payout_failed": _("Payout failed"),
    "application.close": _("Closed"),
    "application.follow_up": _("Follow-up recorded"),
    "application.request_completion": _("Komplettering requested"),
    "application.resubmit": _("Resubmitted after komplettering"),
    "application.items_changed": _("Need items changed by the ombud"),
    "completion.answered": _("Komplettering answered by the ombud"),
    "application.reconsider": _("Taken up for reconsideration (omprövning)"),
    "application.withdraw": _("Withdrawn"),
    "application.give_up_payout": _("Payout given up, case closed"),
    "application.assigned": _("Assigned to an officer"),
    "application.ombud_changed": _("Handed to another ombud"),
    "privacy.access_granted": _("Access to a protected identity granted"),
    "privacy.access_revoked": _("Access to a protected identity revoked"),
    "personal_data.viewed": _("Personal data viewed"),
    "beneficiary.erased": _("Personal data erased"),
    "accounting.committed": _("Budget committed"),
    "accounting.commitments_released": _("Budget commitment released"),
    "payout.orders_scheduled": _("Payment orders scheduled"),
    "payout.order_paid": _("Payment order paid"),
    "payout.order_failed": _("Payment order failed"),
    "auth.login_failed": _("Failed login"),
    "auth.roles_changed": _("Roles changed"),
    "auth.group_permissions_changed": _("Role permissions changed"),
    "auth.user_permissions_changed": _("User permissions changed"),
    "fund.created": _("Fund created"),
    "fund.rules_changed": _("Fund rules changed"),
    "fund.handlers_changed": _("Fund staff changed"),
    "user.created": _("User created"),
    "user.changed": _("User changed"),
    "audit.staff_directory_exported": _("Staff directory exported"),
}

_AMOUNT_KEYS = ("requested", "grantable", "total", "amount")

#: Payload keys as words in a summary.
_KEY_LABELS: dict[str, Promise] = {
    "outcome": _("outcome"),
    "reason": _("reason"),
    "authority": _("authority"),
    "legal_basis": _("legal basis"),
    "method": _("method"),
    "requested": _("requested"),
    "grantable": _("grantable"),
    "total": _("total"),
    "amount": _("amount"),
}


@dataclass(frozen=True)
class TrailRow:
    sequence: int
    occurred_at: datetime
    actor: str
    role: str
    action: str
    summary: str


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace(".", ": ").replace("_", " ")


def _role_label(role: str) -> str:
    from core.roles import Role

    return str(Role(role).label) if role in Role.values else role


def _state_label(state: Any) -> str:
    from fund.states import State

    return str(State(state).label) if state in State.values else str(state)


def _money(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):,.2f} SEK".replace(",", " ")
    except InvalidOperation:
        return str(value)


def summarise(payload: dict[str, Any], people: Mapping[int, str] | None = None) -> str:
    """A short description of a payload: states, outcome, amounts, counts; no raw JSON.

    ``people`` names the users a payload refers to by id (who was given access)."""
    parts: list[str] = []
    if "grantee" in payload:
        grantee = (people or {}).get(payload["grantee"]) or f"#{payload['grantee']}"
        parts.append(str(_("given to: %(who)s") % {"who": grantee}))
    if "from" in payload and "to" in payload:
        parts.append(f"{_state_label(payload['from'])} → {_state_label(payload['to'])}")
    if "item" in payload:
        parts.append(str(_("item %(n)s") % {"n": payload["item"]}))
    for key in ("outcome", "reason", "authority", "legal_basis", "method"):
        if payload.get(key):
            parts.append(f"{_KEY_LABELS[key]}: {payload[key]}")
    for key in _AMOUNT_KEYS:
        if payload.get(key) not in (None, ""):
            parts.append(f"{_KEY_LABELS[key]}: {_money(payload[key])}")
    items = payload.get("items")
    if isinstance(items, list) and items:
        parts.append(str(_("%(n)s need items") % {"n": len(items)}))
    if "signatures" in payload and "required_signatures" in payload:
        parts.append(
            str(_("signatures %(have)s of %(need)s"))
            % {"have": payload["signatures"], "need": payload["required_signatures"]}
        )
    if isinstance(payload.get("fields"), list):
        parts.append(str(_("fields: %(f)s") % {"f": ", ".join(map(str, payload["fields"]))}))
    return "; ".join(parts)


def decision_trail(application: Any) -> list[TrailRow]:
    """The application's audit events in order, readable by people. Two queries."""
    refs = [application.reference]
    beneficiary_ref = getattr(application.beneficiary, "reference", None)
    if beneficiary_ref:
        refs.append(beneficiary_ref)
    events = list(
        AuditEvent.objects.filter(object_ref__in=refs)
        .order_by("sequence")
        .only("sequence", "occurred_at", "actor_id", "actor_role", "action", "payload")
    )
    user_ids = {e.actor_id for e in events if e.actor_id is not None} | {
        e.payload["grantee"]
        for e in events
        if isinstance(e.payload, dict) and isinstance(e.payload.get("grantee"), int)
    }
    users = get_user_model().objects.in_bulk(user_ids) if user_ids else {}
    people = {pk: user.get_full_name() or user.get_username() for pk, user in users.items()}
    rows = []
    for event in events:
        user = users.get(event.actor_id) if event.actor_id is not None else None
        if user is not None:
            actor = user.get_full_name() or user.get_username()
        elif event.actor_id is not None:
            actor = str(_("user #%(id)s (removed)") % {"id": event.actor_id})
        else:
            actor = str(_("the system"))
        rows.append(
            TrailRow(
                sequence=event.sequence,
                occurred_at=event.occurred_at,
                actor=actor,
                role=_role_label(event.actor_role),
                action=action_label(event.action),
                summary=summarise(event.payload if isinstance(event.payload, dict) else {}, people),
            )
        )
    return rows
