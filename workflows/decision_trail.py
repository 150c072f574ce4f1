"""Reading the audit log for people: an application's decision trail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from fund.money import format_money

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
    "beneficiary.matched": _("Person matched to an earlier registration"),
    "decision.set_aside": _("Pending decision set aside"),
    "organisation.verified": _("Organisation verified"),
    "ombud.pending": _("Ombud registered, awaiting verification"),
    "ombud.verified": _("Ombud verified"),
    "ombud.revoked": _("Ombud registration revoked"),
    "accounting.budget_set": _("Budget set"),
    "accounting.ceiling_set": _("Spending ceiling set"),
    "accounting.open_commitments_accrued": _("Open commitments accrued"),
    "ledger.voucher_posted": _("Voucher posted"),
    "ledger.fiscal_year_opened": _("Fiscal year opened"),
    "ledger.period_closed": _("Period closed"),
    "ledger.year_end_prepared": _("Year-end closing prepared"),
    "ledger.year_end_approved": _("Year-end closing approved"),
    "ledger.chart_mapping_changed": _("Chart of accounts mapping changed"),
    "export.sie": _("SIE file exported"),
    "export.ledger": _("Ledger exported"),
    "export.job_started": _("Export started"),
    "payout.payee_registered": _("Payee registered"),
    "payout.payee_approved": _("Payee approved"),
    "payout.payee_deactivated": _("Payee deactivated"),
    "payout.batch_created": _("Payment batch created"),
    "payout.batch_approved": _("Payment batch approved"),
    "payout.batch_exported": _("Payment batch file made"),
    "payout.file_requested": _("Payment batch file requested"),
    "payout.batch_sent": _("Payment batch sent to the bank"),
    "payout.batch_acknowledged": _("The bank answered for the payment file"),
    "payout.batch_cancelled": _("Payment batch cancelled"),
    "payout.batch_voided": _("Payment batch voided"),
    "payout.bank_exception": _("Bank exception raised"),
    "payout.bank_exception_resolved": _("Bank exception resolved"),
    "payout.bank_file_redacted": _("Bank file redacted"),
    "cofinancing.time_sheets_imported": _("Time sheets imported"),
    "cofinancing.esf_income_accrued": _("ESF income accrued"),
    "cofinancing.esf_claim_recorded": _("ESF claim recorded"),
    "cofinancing.esf_payment_received": _("ESF payment received"),
    "cofinancing.report_exported": _("Co-financing report exported"),
    "keys.rotated": _("Master keys rotated"),
    "keys.rekeyed": _("Data keys re-encrypted"),
    "privacy.blind_index_rebuilt": _("Search index for personal numbers rebuilt"),
    "operations.moved_to_postgres": _("Data moved to PostgreSQL"),
}

#: Reads of a person's data: many, and alike, so the timeline shows them collapsed.
PERSONAL_DATA_VIEWED = "personal_data.viewed"

_AMOUNT_KEYS = ("requested", "grantable", "total", "amount")

#: Payload keys as words in a summary.
_KEY_LABELS: dict[str, Promise] = {
    "reason": _("reason"),
    "authority": _("authority"),
    "legal_basis": _("legal basis"),
    "method": _("method"),
    "purpose": _("purpose"),
    "requested": _("requested"),
    "grantable": _("grantable"),
    "total": _("total"),
    "amount": _("amount"),
}

#: Codes shown as they are labelled where no model choice holds them.
_PAYOUT_FAILURES: dict[str, Promise] = {
    "account_closed": _("The account is closed"),
    "wrong_account": _("Wrong account"),
    "rejected_by_bank": _("Rejected by the bank"),
    "other": _("Other"),
}
_SET_ASIDE_REASONS: dict[str, Promise] = {
    "outside_fund_rules": _("Outside the fund's rules"),
    "completion_requested": _("Komplettering requested"),
}


@dataclass(frozen=True)
class TrailRow:
    sequence: int
    occurred_at: datetime
    actor: str
    role: str
    action: str
    summary: str
    #: The recorded action's code (``personal_data.viewed``), for grouping rows.
    code: str = ""

    @property
    def is_personal_data_read(self) -> bool:
        return self.code == PERSONAL_DATA_VIEWED


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace(".", ": ").replace("_", " ")


def role_label(role: str) -> str:
    from core.roles import Role

    return str(Role(role).label) if role in Role.values else role


def _state_label(state: Any) -> str:
    from fund.states import State

    return str(State(state).label) if state in State.values else str(state)


def _money(value: Any) -> str:
    """The amount as the page's language writes it (``6 000,00 kr``, ``SEK 6,000.00``)."""
    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _code_labels(action: str) -> dict[str, Mapping[str, Any]]:
    """Which labels a payload's codes have in this action's events: the same key (outcome,
    reason) comes from different choices in different steps."""
    from fund.models import ProtectedAccessReason
    from fund.privacy import AccessPurpose
    from workflows.models import (
        AttestationMethod,
        Authority,
        ClosingReason,
        DecisionOutcome,
        FollowUpOutcome,
        GiveUpReason,
        LegalBasis,
        Obligation,
        ReasonCode,
    )

    decision: dict[str, Mapping[str, Any]] = {
        "outcome": dict(DecisionOutcome.choices),
        "reason": dict(ReasonCode.choices),
    }
    by_action: dict[str, dict[str, Mapping[str, Any]]] = {
        "statutory.assessed": {"outcome": dict(Obligation.choices)},
        "application.follow_up": {"outcome": dict(FollowUpOutcome.choices)},
        "application.approve": decision,
        "application.approve_partly": decision,
        "application.reject": decision,
        "decision.signed": decision,
        "application.withdraw": {"reason": dict(ClosingReason.choices)},
        "application.decline_attestation": {"reason": dict(ClosingReason.choices)},
        "application.give_up_payout": {"reason": dict(GiveUpReason.choices)},
        "application.payout_failed": {"reason": _PAYOUT_FAILURES},
        "decision.set_aside": {"reason": _SET_ASIDE_REASONS},
        "privacy.access_granted": {"reason": dict(ProtectedAccessReason.choices)},
        PERSONAL_DATA_VIEWED: {"purpose": dict(AccessPurpose.choices)},
    }
    return {
        "authority": dict(Authority.choices),
        "legal_basis": dict(LegalBasis.choices),
        "method": dict(AttestationMethod.choices),
        **by_action.get(action, {}),
    }


def _label(labels: Mapping[str, Mapping[str, Any]], key: str, code: Any) -> str:
    """A code's label, or the code itself when it has none (an old or unknown code)."""
    label = labels.get(key, {}).get(code) if isinstance(code, str) else None
    return str(label) if label is not None else str(code)


def summarise(
    payload: dict[str, Any], people: Mapping[int, str] | None = None, *, action: str = ""
) -> str:
    """A short description of a payload: states, outcome, amounts, counts; no raw JSON.

    Codes are shown by their labels in the active language, amounts as it writes them;
    ``people`` names the users a payload refers to by id (who was given access)."""
    labels = _code_labels(action)
    parts: list[str] = []
    if "grantee" in payload:
        grantee = (people or {}).get(payload["grantee"]) or f"#{payload['grantee']}"
        parts.append(str(_("given to: %(who)s") % {"who": grantee}))
    if "from" in payload and "to" in payload:
        parts.append(f"{_state_label(payload['from'])} → {_state_label(payload['to'])}")
    if "item" in payload:
        parts.append(str(_("item %(n)s") % {"n": payload["item"]}))
    if payload.get("outcome"):
        parts.append(_label(labels, "outcome", payload["outcome"]))
    for key in ("reason", "authority", "legal_basis", "method", "purpose"):
        if payload.get(key):
            parts.append(f"{_KEY_LABELS[key]}: {_label(labels, key, payload[key])}")
    for key in _AMOUNT_KEYS:
        if payload.get(key) not in (None, ""):
            parts.append(f"{_KEY_LABELS[key]}: {_money(payload[key])}")
    for referral in payload.get("referrals") or ():
        if isinstance(referral, dict):
            parts.append(
                str(_("item %(n)s to %(authority)s"))
                % {
                    "n": referral.get("item"),
                    "authority": _label(labels, "authority", referral.get("authority")),
                }
            )
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


def split_personal_data_reads(rows: list[TrailRow]) -> tuple[list[TrailRow], list[TrailRow]]:
    """The trail's steps, and apart from them the reads of the person's data, which would
    otherwise make up half of a busy case's timeline."""
    return (
        [row for row in rows if not row.is_personal_data_read],
        [row for row in rows if row.is_personal_data_read],
    )


def staff_names(user_ids: Iterable[int]) -> dict[int, str]:
    """Staff (users) by id to their names, in one query; never the people in the cases, who
    are not users."""
    ids = set(user_ids)
    users = get_user_model().objects.in_bulk(ids) if ids else {}
    return {pk: user.get_full_name() or user.get_username() for pk, user in users.items()}


def actor_name(actor_id: int | None, names: Mapping[int, str]) -> str:
    """Who acted, by name; a removed account by its id; no actor is the system."""
    if actor_id is None:
        return str(_("the system"))
    if actor_id in names:
        return names[actor_id]
    return str(_("user #%(id)s (removed)") % {"id": actor_id})


def decision_trail(application: Any) -> list[TrailRow]:
    """The application's audit events in order, readable by people. Two queries."""
    return trail_rows(list(trail_events(application)))


def trail_events(application: Any) -> QuerySet[AuditEvent]:
    """The events of the case and of its person, in order: what the trail shows, unread, so
    a caller that shows one page reads only that page's events."""
    refs = [application.reference]
    beneficiary_ref = getattr(application.beneficiary, "reference", None)
    if beneficiary_ref:
        refs.append(beneficiary_ref)
    return (
        AuditEvent.objects.filter(object_ref__in=refs)
        .order_by("sequence")
        .only("sequence", "occurred_at", "actor_id", "actor_role", "action", "payload")
    )


def trail_rows(events: list[AuditEvent]) -> list[TrailRow]:
    """The events as the trail's rows, with the staff named (one query)."""
    user_ids = {e.actor_id for e in events if e.actor_id is not None} | {
        e.payload["grantee"]
        for e in events
        if isinstance(e.payload, dict) and isinstance(e.payload.get("grantee"), int)
    }
    people = staff_names(user_ids)
    rows = []
    for event in events:
        actor = actor_name(event.actor_id, people)
        rows.append(
            TrailRow(
                sequence=event.sequence,
                occurred_at=event.occurred_at,
                actor=actor,
                role=role_label(event.actor_role),
                action=action_label(event.action),
                summary=summarise(
                    event.payload if isinstance(event.payload, dict) else {},
                    people,
                    action=event.action,
                ),
                code=event.action,
            )
        )
    return rows
