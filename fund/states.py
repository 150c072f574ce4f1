"""The states an application passes through."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    AWAITING_OMBUD = "awaiting_ombud", _("Awaiting ombud attestation")
    OMBUD_VERIFIED = "ombud_verified", _("Attested by ombud")
    STATUTORY_CHECK = "statutory_check", _("Statutory obligation check")
    REFERRED = "referred", _("Referred to authority")
    READY_FOR_DECISION = "ready_for_decision", _("Ready for decision")
    NEEDS_COMPLETION = "needs_completion", _("Komplettering requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAYOUT_SCHEDULED = "payout_scheduled", _("Payout scheduled")
    PAID = "paid", _("Paid")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: States from which komplettering may be requested, and to which resubmit returns.
COMPLETION_STATES = (
    State.SUBMITTED,
    State.AWAITING_OMBUD,
    State.OMBUD_VERIFIED,
    State.STATUTORY_CHECK,
    State.READY_FOR_DECISION,
)

#: Open states an application can be withdrawn from. Not once money is in flight or paid.
WITHDRAWABLE_STATES = (
    State.DRAFT,
    *COMPLETION_STATES,
    State.NEEDS_COMPLETION,
    State.APPROVED,
)

#: States in which the case is finished.
FINAL_STATES = (State.REFERRED, State.CLOSED, State.WITHDRAWN)
