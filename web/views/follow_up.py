"""The follow-up on the application page: what was recorded, and the officer's form.

The view only shows; ``workflows.services.record_follow_up`` decides. The evidence reference
is the person's data (under their key): it is read only where the page already shows the
case's texts, whose look the page has logged (``personal_data.viewed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from core.roles import Role
from fund.case_scope import may_act_as
from fund.models import Application
from fund.states import State
from web.forms import FollowUpForm

#: The follow-up form's field ids (``follow_up_outcome``), the same empty or refused.
FOLLOW_UP_IDS = "follow_up_%s"
#: A follow-up is recorded on a paid case and stays with it once closed.
STATES_WITH_FOLLOW_UPS = (State.PAID, State.CLOSED)


@dataclass(frozen=True)
class RecordedFollowUp:
    """One follow-up as the page shows it; ``evidence_reference`` only to whom it may, else
    ``evidence_hidden`` says that there is one."""

    outcome: str
    recorded_by: str
    recorded_at: datetime
    evidence_reference: str
    evidence_hidden: bool


def follow_up_context(
    request: HttpRequest,
    app: Application,
    *,
    texts_visible: bool,
    form: FollowUpForm | None = None,
) -> dict[str, Any]:
    """The recorded follow-ups, and the form for an officer of the fund on a paid case (or a
    refused form, whatever the state now: what was typed and the refusal stay in view)."""
    recorded = []
    if app.state in STATES_WITH_FOLLOW_UPS:
        recorded = [
            _shown(follow_up, app, texts_visible)
            for follow_up in app.follow_ups.select_related("recorded_by").order_by(
                "recorded_at", "pk"
            )
        ]
    may_record = app.state == State.PAID and may_act_as(request.user, Role.OFFICER, app)
    if form is None and may_record:
        form = FollowUpForm(auto_id=FOLLOW_UP_IDS)
    return {
        "follow_ups": recorded,
        "follow_up_form": form,
        # The page says why "close" is not offered yet (workflows.services.follow_up_problems).
        "follow_up_first": may_record and app.fund.follow_up_required and not recorded,
    }


def _shown(follow_up: Any, app: Application, texts_visible: bool) -> RecordedFollowUp:
    follow_up.application = app  # the person's key comes with the case already read
    who = follow_up.recorded_by
    has_evidence = bool(follow_up.encrypted_evidence_reference)
    return RecordedFollowUp(
        outcome=follow_up.get_outcome_display(),
        recorded_by=who.get_full_name() or who.get_username(),
        recorded_at=follow_up.recorded_at,
        evidence_reference=follow_up.evidence_reference if has_evidence and texts_visible else "",
        evidence_hidden=has_evidence and not texts_visible,
    )
