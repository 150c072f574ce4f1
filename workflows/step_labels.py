"""The workflow's steps in the users' words: the buttons on the case page, and the names
refusals use (a step's code, "request_attestation", says nothing to a fund officer)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

STEP_LABELS = {
    "submit": _("Submit the application"),
    "request_attestation": _("Ask the ombud to attest"),
    "attest": _("Attest the need"),
    "decline_attestation": _("Decline to attest"),
    "start_statutory_check": _("Start the statutory obligation check"),
    "refer": _("Refer to the authority"),
    "clear": _("Clear for decision"),
    "approve": _("Approve"),
    "approve_partly": _("Approve partly"),
    "reject": _("Reject"),
    "schedule_payout": _("Schedule the payout"),
    "confirm_paid": _("Confirm payment"),
    "payout_failed": _("Payout failed"),
    "close": _("Close the case"),
    "request_completion": _("Request komplettering"),
    "resubmit": _("Resubmit after komplettering"),
    "reconsider": _("Reconsider (omprövning)"),
    "withdraw": _("Withdraw the application"),
    "give_up_payout": _("Give up the payout and close the case"),
}


def step_label(name: str) -> str:
    """The step's label in the active language; an unknown name as it was given."""
    return str(STEP_LABELS.get(name, name))
