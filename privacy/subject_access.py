"""What the foundation holds about a person (GDPR Art 15), for the administrator to send."""

from __future__ import annotations

from typing import Any

from django.views.decorators.debug import sensitive_variables

from fund.key_management import rekey_after_leak as rekey_after_leak
from fund.key_management import rotate_master_keys as rotate_master_keys
from fund.models import Beneficiary
from fund.privacy import AccessPurpose, access_log, read_personal_data, stated_reason
from fund.subject_access import article_15_information, case_records, own_payees
from privacy.retention import retention_of


@sensitive_variables()
def subject_access_report(beneficiary: Beneficiary, *, actor: Any) -> dict[str, Any]:
    """Everything held about the person (GDPR Art 15), for the administrator to send."""
    personal = read_personal_data(
        beneficiary, actor=actor, purpose=AccessPurpose.SUBJECT_ACCESS, channel="report"
    )
    cases = case_records(beneficiary)
    retention = retention_of(beneficiary)
    held = {
        "hold_until": retention.hold_until.isoformat() if retention.hold_until else None,
        "erasable": retention.due,
        "reason": str(retention.reason),
    }
    return {
        "reference": beneficiary.reference,
        "personal_data": personal,
        "region": beneficiary.region,
        "applications": cases,
        "payees": own_payees(beneficiary),
        "accesses": [
            {
                "at": event.occurred_at.isoformat(),
                "actor_id": event.actor_id,
                "role": event.actor_role,
                "purpose": event.payload.get("purpose"),
                "channel": event.payload.get("channel"),
                "application": event.payload.get("application"),
                "reason": stated_reason(event),
            }
            for event in access_log(beneficiary)
        ],
        "retention": held,
        "information": article_15_information(beneficiary, cases, held),
    }
