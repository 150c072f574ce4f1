"""The one entry point for changing a case.

Every public function checks the actor's role and case scope, validates input, runs the
state-machine transition, writes the domain rows and appends the audit event — all in one
database transaction. Pages, admin actions, the API and commands only translate input into
these calls.

The package is split by concern: ``intake`` (the person, the application, attestation and
komplettering), ``assessment`` (the statutory check and follow-up), ``decisions`` (decide, sign,
take effect, omprövning), ``verdicts`` (one decision from a verdict per item), ``payout`` (the
payout steps), ``segregation`` (who may not sign or pay what they prepared), ``base`` (the step
in progress), ``front_door`` (:func:`transition`) and ``send_to_decision`` (the statutory
check and the step to decision in one press).
Which steps a user may run now is a read: :func:`workflows.selectors.available_transitions`.
"""

from fund.case_scope import works_in_fund
from workflows.selectors import available_transitions
from workflows.services.assessment import (
    AssessmentInput,
    evidence_visible_to,
    record_follow_up,
    record_statutory_assessment,
    record_statutory_assessments,
)
from workflows.services.base import ItemProblems
from workflows.services.front_door import HANDLERS, transition
from workflows.services.intake import NeedInput, create_application, register_beneficiary
from workflows.services.payout import PayoutFailure
from workflows.services.send_to_decision import assess_and_clear
from workflows.services.verdicts import ItemVerdict, Verdict, decide_items

__all__ = [
    "HANDLERS",
    "AssessmentInput",
    "ItemProblems",
    "ItemVerdict",
    "NeedInput",
    "PayoutFailure",
    "Verdict",
    "assess_and_clear",
    "available_transitions",
    "create_application",
    "decide_items",
    "evidence_visible_to",
    "record_follow_up",
    "record_statutory_assessment",
    "record_statutory_assessments",
    "register_beneficiary",
    "transition",
    "works_in_fund",
]
