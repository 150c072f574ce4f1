"""The officer's statutory check and the step to decision in one press (issue #19).

Assessing every item and then clearing the case were two posts and two page loads; the
officer means one thing by them: "this is my assessment, the case is ready for decision".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from fund.models import Application
from workflows import step_inputs
from workflows.services.assessment import AssessmentInput, record_statutory_assessments
from workflows.services.front_door import transition


@sensitive_variables()
def assess_and_clear(
    application: Application, *, actor: Any, assessments: Sequence[AssessmentInput]
) -> Application:
    """Record every item's statutory assessment, then clear the case for decision.

    One transaction: when the clear step is refused (say, society is obliged for every item,
    so the case is to be referred instead), the assessments are not kept either, and the
    officer's form comes back as typed with the refusal. Raises what
    :func:`record_statutory_assessments` and :func:`transition` raise.
    """
    with transaction.atomic():
        record_statutory_assessments(application, actor=actor, assessments=assessments)
        return transition(application, actor=actor, step=step_inputs.Clear())
