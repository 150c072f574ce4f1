"""What the subject access report (GDPR Art 15) says about one person, section by section.

Built from the person's cases through their related rows, so this module needs no import of
the workflow or accounting layers; :func:`fund.privacy.subject_access_report` checks who asks,
logs the look and puts the sections together.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from fund.models import Application, Beneficiary


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _amount(money: Any) -> str | None:
    return str(money.amount) if money is not None else None


def payee_details(payee: Any) -> dict[str, Any]:
    """A payee by reference and kind; a person payee's name and account are their own data."""
    details: dict[str, Any] = {
        "reference": payee.reference,
        "kind": payee.kind,
        "kind_label": str(payee.get_kind_display()),
        "method": payee.method,
    }
    if payee.beneficiary_id is not None:
        # Encrypted values win over the columns (the account may move under the key).
        details |= {
            "clearing_number": payee.clearing_number,
            "account": payee.account,
            "bic": payee.bic,
            **payee.personal_data,
        }
    else:
        details["name"] = payee.name
    return details


def own_payees(beneficiary: Beneficiary) -> list[dict[str, Any]]:
    return [
        {**payee_details(payee), "active": payee.active, "created_at": _iso(payee.created_at)}
        for payee in beneficiary.payees.order_by("reference")
    ]


def _need_item(item: Any) -> dict[str, Any]:
    assessment = getattr(item, "statutory_assessment", None)
    return {
        "position": item.position,
        "category": item.category,
        "description": item.description,
        "requested": _amount(item.requested_amount),
        "approved": _amount(item.approved_amount),
        "outcome": item.outcome,
        "statutory_assessment": None
        if assessment is None
        else {
            "outcome": assessment.outcome,
            "outcome_label": str(assessment.get_outcome_display()),
            "authority": assessment.authority,
            "authority_label": str(assessment.get_authority_display()),
            "legal_basis": assessment.legal_basis,
            "legal_basis_label": str(assessment.get_legal_basis_display()),
            "evidence_reference": assessment.evidence_reference,
            "grantable": _amount(assessment.grantable_amount),
            "assessed_at": _iso(assessment.assessed_at),
        },
    }


def _bank_exception(exception: Any) -> dict[str, Any]:
    """What the bank did against our intention with the person's payment, by code and date."""
    return {
        "kind": exception.kind,
        "kind_label": str(exception.get_kind_display()),
        "status": "open" if exception.is_open else "resolved",
        "amount": _amount(exception.amount),
        "booking_date": _iso(exception.booking_date),
        "recorded_at": _iso(exception.recorded_at),
        "resolution": exception.resolution,
        "resolution_label": str(exception.get_resolution_display()) if exception.resolution else "",
        "resolved_at": _iso(exception.resolved_at),
    }


def _reminder(reminder: Any) -> dict[str, Any]:
    """A reminder about the person's case: to whom (a user id), why and when."""
    return {
        "kind": reminder.kind,
        "kind_label": str(reminder.get_kind_display()),
        "recipient_id": reminder.recipient_id,
        "waiting_since": _iso(reminder.waiting_since),
        "days": reminder.days,
        "created_at": _iso(reminder.created_at),
        "emailed_at": _iso(reminder.emailed_at),
        "dismissed_at": _iso(reminder.dismissed_at),
    }


def _case(app: Application) -> dict[str, Any]:
    return {
        "reference": app.reference,
        "fund": app.fund.name,
        "state": app.state,
        "created_at": _iso(app.created_at),
        "ombud_organisation": app.ombud.organisation.name,
        "need_items": [_need_item(item) for item in app.items.all()],
        "attestations": [
            {
                "ombud_id": a.ombud_id,
                "ombud_organisation": a.ombud.organisation.name,
                "method": a.method,
                "method_label": str(a.get_method_display()),
                "attested_at": _iso(a.attested_at),
            }
            for a in app.attestations.all()
        ],
        "completion_requests": [
            {
                "requested_at": _iso(r.requested_at),
                "message": r.message,
                "answer": r.answer,
                "answered_at": _iso(r.answered_at),
                "resolved_at": _iso(r.resolved_at),
            }
            for r in app.completion_requests.all()
        ],
        "decisions": [
            {
                "outcome": d.outcome,
                "status": d.status,
                "reason": d.reason,
                "total_approved": _amount(d.total_approved),
                "effective_at": _iso(d.effective_at),
                "items": [
                    {
                        "item": i.need_item.position,
                        "outcome": i.outcome,
                        "amount": _amount(i.amount),
                        "reason": i.reason,
                        "reason_written": i.reason_text,
                    }
                    for i in d.items.all()
                ],
            }
            for d in app.decisions.all()
        ],
        "payment_orders": [
            {
                "reference": f"PO-{order.pk}",
                "item": order.need_item.position,
                "amount": _amount(order.amount),
                "status": order.status,
                "created_at": _iso(order.created_at),
                "paid_at": _iso(order.paid_at),
                "batch": order.batch.message_id if order.batch is not None else None,
                "payee": payee_details(order.payee),
                "bank_exceptions": [
                    _bank_exception(exception)
                    for exception in sorted(order.bank_exceptions.all(), key=lambda e: e.pk)
                ],
            }
            for order in app.payment_orders.all()
        ],
        "reminders": [
            _reminder(reminder)
            for reminder in sorted(app.reminders.all(), key=lambda r: (r.created_at, r.pk))
        ],
        "follow_ups": [
            {
                "outcome": f.outcome,
                "evidence_reference": f.evidence_reference,
                "recorded_at": _iso(f.recorded_at),
            }
            for f in app.follow_ups.order_by("recorded_at")
        ],
        "protected_identity_grants": [
            {
                "grantee_id": g.grantee_id,
                "granted_by_id": g.granted_by_id,
                "reason": g.reason,
                "reason_label": str(g.get_reason_display()),
                "granted_at": _iso(g.granted_at),
                "revoked_at": _iso(g.revoked_at),
            }
            for g in app.protected_access_grants.order_by("granted_at")
        ],
    }


def case_records(beneficiary: Beneficiary) -> list[dict[str, Any]]:
    """Every case of the person with everything recorded in it."""
    applications = (
        beneficiary.applications.select_related("fund", "ombud__organisation")
        .prefetch_related(
            "items__statutory_assessment",
            "decisions",
            "attestations__ombud__organisation",
            "completion_requests",
            "payment_orders__payee",
            "payment_orders__batch",
            "payment_orders__need_item",
            "payment_orders__bank_exceptions",
            "reminders",
        )
        .order_by("created_at")
    )
    return [_case(app) for app in applications]


def article_15_information(
    beneficiary: Beneficiary, cases: list[dict[str, Any]], retention: dict[str, Any]
) -> dict[str, Any]:
    """Purposes, legal bases, recipients, retention, source and rights (GDPR Art 15(1))."""
    organisations = sorted({case["ombud_organisation"] for case in cases})
    paid_to = sorted(
        {
            order["payee"]["name"]
            for case in cases
            for order in case["payment_orders"]
            if order["payee"]["kind"] != "person" and order["payee"].get("name")
        }
    )
    recipients = [
        _("The foundation's bank, which carries out the payments (payee, account and amount).")
    ]
    if organisations:
        recipients.append(
            _("The ombud's organisation: %(names)s.") % {"names": ", ".join(organisations)}
        )
    if paid_to:
        recipients.append(
            _("Those paid for your support (they see the case reference only): %(names)s.")
            % {"names": ", ".join(paid_to)}
        )
    return {
        "purposes": [
            {
                "purpose": _(
                    "Handling your application: the need, the statutory check, the decision "
                    "and the payment."
                ),
                "legal_basis": _(
                    "GDPR Art 6(1)(b); for special-category data your explicit consent, "
                    "Art 9(2)(a)."
                ),
            },
            {
                "purpose": _("Keeping the accounting records of payments made for you."),
                "legal_basis": _("GDPR Art 6(1)(c): the Accounting Act (1999:1078) 7 kap. 2 §."),
            },
            {
                "purpose": _("Logging who read your data and why, to protect it."),
                "legal_basis": _("GDPR Art 6(1)(f) and Art 32 (security of processing)."),
            },
            {
                "purpose": _("Answering your requests about your data."),
                "legal_basis": _("GDPR Art 6(1)(c) with Art 12 and 15."),
            },
        ],
        "recipients": recipients,
        "retention": retention,
        "source": _("Your ombud, who applied on your behalf: %(names)s.")
        % {"names": ", ".join(organisations) or "—"},
        "rights": [
            _("Rectification of inaccurate data (GDPR Art 16)."),
            _("Erasure (GDPR Art 17), once no legal hold applies."),
            _("Restriction of processing (GDPR Art 18) and objection (GDPR Art 21)."),
            _("A complaint to Integritetsskyddsmyndigheten (IMY), www.imy.se."),
        ],
    }
