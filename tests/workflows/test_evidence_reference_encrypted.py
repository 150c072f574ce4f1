"""Evidence references are free text about a person's case: kept under the person's key.

Issue #14, defect 1: they were plain columns that survived erasure.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from privacy.erasure import erase_person
from tests.fund.test_no_plaintext_personal_data import _raw_database_bytes
from workflows import services
from workflows.models import FollowUp, FollowUpOutcome, Obligation, StatutoryAssessment

NAME = "Evidensia Raw-Scanova"
ASSESSMENT_EVIDENCE = "Avslag soc Malmö dnr 4711-2026 Evidensia"
FOLLOW_UP_EVIDENCE = "Kvitto Synsam 88412 Evidensia"


def _paid_case_with_evidence(world):
    app = world.to_statutory_check(world.new_application("1500", name=NAME))
    world.assess_all(app, evidence_reference=ASSESSMENT_EVIDENCE)
    app = world.run(app, "clear", world.officer)
    app = world.run(app, "approve", world.decider)
    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    app = world.run(app, "confirm_paid", world.treasurer)
    services.record_follow_up(
        app,
        actor=world.officer,
        outcome=FollowUpOutcome.USED_AS_INTENDED,
        evidence_reference=FOLLOW_UP_EVIDENCE,
    )
    return app


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_evidence_references_are_not_in_the_database_in_plain_text(world, tmp_path):
    app = _paid_case_with_evidence(world)
    assessment = StatutoryAssessment.objects.get(need_item__application=app)
    follow_up = FollowUp.objects.get(application=app)
    assert assessment.evidence_reference == ASSESSMENT_EVIDENCE  # really stored, readable
    assert follow_up.evidence_reference == FOLLOW_UP_EVIDENCE

    raw = _raw_database_bytes(tmp_path)
    assert app.reference.encode() in raw  # the scan does see the data
    for value in (ASSESSMENT_EVIDENCE, FOLLOW_UP_EVIDENCE, "4711-2026", "Synsam 88412"):
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value


def test_evidence_references_are_unreadable_after_erasure(world):
    app = world.run(_paid_case_with_evidence(world), "close", world.officer)
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    assessment = StatutoryAssessment.objects.get(need_item__application=app)
    follow_up = FollowUp.objects.get(application=app)
    assert assessment.evidence_reference == "" and follow_up.evidence_reference == ""
    assert assessment.encrypted_evidence_reference  # the token is left, its key is gone


def test_evidence_references_never_reach_the_audit_log(world):
    app = _paid_case_with_evidence(world)
    logged = json.dumps(list(AuditEvent.objects.values("payload")), ensure_ascii=False)
    assert app.reference in json.dumps(list(AuditEvent.objects.values("object_ref")))
    for value in (ASSESSMENT_EVIDENCE, FOLLOW_UP_EVIDENCE, "4711-2026"):
        assert value not in logged


def test_an_obliged_assessment_keeps_the_legal_basis_as_a_code(world):
    app = world.to_statutory_check(world.new_application("1500", name=NAME))
    with pytest.raises(ValidationFailed, match="legal basis from the list"):
        world.assess_all(
            app,
            outcome=Obligation.OBLIGED,
            authority="mmm",
            legal_basis="MMM: Anna Svensson polisanm K-123456-26",
        )
    world.assess_all(app, outcome=Obligation.OBLIGED, authority="mmm", legal_basis="mmm")
    event = AuditEvent.objects.filter(action="statutory.assessed").get()
    assert event.payload["legal_basis"] == "mmm"
