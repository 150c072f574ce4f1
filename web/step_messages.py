"""What the application page says before an irreversible step and after every step.

Before: the question app.js asks (``data-confirm``), saying exactly what will happen. After:
what happened, naming the case (and for a decision, how much), instead of "Done".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from moneyed import Money

from fund.models import Application
from fund.money import format_money
from workflows.models import Decision, DecisionOutcome, DecisionStatus


def confirm_text(name: str, app: Application) -> str:
    """The question before step ``name``; empty for a step that can be undone or redone."""
    ref = {"ref": app.reference}
    questions = {
        "refer": _(
            "Refer %(ref)s to the authority? The case is closed here; this cannot be undone."
        ),
        "withdraw": _("Withdraw application %(ref)s? This cannot be undone."),
        "decline_attestation": _(
            "Decline to attest %(ref)s? The application is closed; this cannot be undone."
        ),
        "give_up_payout": _(
            "Give up the payout of %(ref)s? What is not paid goes back to the fund and the "
            "case is closed; this cannot be undone."
        ),
        "confirm_paid": _("Confirm that %(ref)s is paid? This cannot be undone."),
        "close": _("Close %(ref)s? This cannot be undone."),
    }
    return questions[name] % ref if name in questions else ""


def decision_summary(amounts: Iterable[Money]) -> str:
    """ "2 items, 5 500,00 kr granted, 1 item rejected" for the decided amounts."""
    amounts = list(amounts)
    granted = [a for a in amounts if a.amount]
    parts = []
    if granted:
        total = sum(granted, Money(0, "SEK"))
        parts.append(
            ngettext(
                "%(n)s item, %(amount)s granted",
                "%(n)s items, %(amount)s granted",
                len(granted),
            )
            % {"n": len(granted), "amount": format_money(total)}
        )
    rejected = len(amounts) - len(granted)
    if rejected:
        parts.append(
            ngettext("%(n)s item rejected", "%(n)s items rejected", rejected) % {"n": rejected}
        )
    return ", ".join(parts)


def summary_templates() -> dict[str, str]:
    """The summary's pieces with ``{n}`` and ``{amount}`` left open, for app.js to fill in as
    the decision-maker chooses (Swedish and English: one form for 1, another for the rest)."""
    open_slots = {"n": "{n}", "amount": "{amount}"}
    return {
        "granted_one": ngettext(
            "%(n)s item, %(amount)s granted", "%(n)s items, %(amount)s granted", 1
        )
        % open_slots,
        "granted_other": ngettext(
            "%(n)s item, %(amount)s granted", "%(n)s items, %(amount)s granted", 2
        )
        % open_slots,
        "rejected_one": ngettext("%(n)s item rejected", "%(n)s items rejected", 1) % open_slots,
        "rejected_other": ngettext("%(n)s item rejected", "%(n)s items rejected", 2) % open_slots,
    }


def decide_question(app: Application, summary: str = "{summary}") -> str:
    return _("Decide %(ref)s: %(summary)s? The decision cannot be undone.") % {
        "ref": app.reference,
        "summary": summary,
    }


def sign_question(app: Application, decision: Decision) -> str:
    summary = decision_summary(di.amount for di in decision.items.all())
    return _("Sign the decision on %(ref)s: %(summary)s? The decision cannot be undone.") % {
        "ref": app.reference,
        "summary": summary,
    }


def decision_message(app: Application) -> str:
    """What became of the decision just signed: in force, or waiting for a second signer."""
    decision = app.decisions.order_by("-created_at", "-pk").first()
    if decision is None:
        return done_message("approve", app)
    ref = {"ref": app.reference, "amount": format_money(decision.total_approved)}
    if decision.status == DecisionStatus.AWAITING_SIGNATURE:
        return _("The decision on %(ref)s is signed — awaiting a second signature.") % ref
    if decision.outcome == DecisionOutcome.REJECT:
        return _("Application %(ref)s is rejected.") % ref
    if decision.outcome == DecisionOutcome.APPROVE_PARTLY:
        return _("Application %(ref)s is partly approved: %(amount)s granted.") % ref
    return _("Application %(ref)s is approved: %(amount)s granted.") % ref


def done_message(name: str, app: Application) -> str:
    """What step ``name`` did to the case, naming it."""
    if name in ("approve", "approve_partly", "reject") and app.decisions.exists():
        return decision_message(app)
    ref = {"ref": app.reference}
    messages = {
        "submit": _("Application %(ref)s is submitted."),
        "request_attestation": _("The ombud is asked to attest the need in %(ref)s."),
        "attest": _("The need in %(ref)s is attested."),
        "decline_attestation": _("You declined to attest %(ref)s; the application is closed."),
        "start_statutory_check": _("The statutory obligation check of %(ref)s has started."),
        "refer": _("%(ref)s is referred to the authority and closed here."),
        "clear": _("%(ref)s is cleared for decision."),
        "schedule_payout": _("The payout of %(ref)s is scheduled."),
        "confirm_paid": _("%(ref)s is confirmed as paid."),
        "payout_failed": _("The payout of %(ref)s is recorded as failed."),
        "close": _("%(ref)s is closed."),
        "request_completion": _("Komplettering of %(ref)s is requested from the ombud."),
        "resubmit": _("%(ref)s is sent in again after komplettering."),
        "reconsider": _("%(ref)s is open for reconsideration (omprövning)."),
        "withdraw": _("Application %(ref)s is withdrawn."),
        "give_up_payout": _("The payout of %(ref)s is given up and the case is closed."),
    }
    return messages.get(name, _("%(ref)s is updated.")) % ref
