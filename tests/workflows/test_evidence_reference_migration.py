"""Migration workflows 0005 carries existing evidence references over under the person's key."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from privacy.erasure import erase_person
from workflows.models import FollowUp, FollowUpOutcome, StatutoryAssessment

BEFORE = [("workflows", "0004_legal_basis_code")]
AFTER = [("workflows", "0005_evidence_reference_encrypted")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_evidence_references_are_encrypted_and_an_erased_persons_emptied(world):
    from workflows import services

    kept = world.to_paid(world.new_application("500", name="Kvar Kvarsson"))
    services.record_follow_up(kept, actor=world.officer, outcome=FollowUpOutcome.USED_AS_INTENDED)
    erased = world.run(
        world.to_statutory_check(world.new_application("500", name="Borta Bortsson")),
        "withdraw",
        world.ombud.user,
        reason="other",
    )
    erase_person(erased.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    old_apps = _migrate(BEFORE)
    try:
        OldAssessment = old_apps.get_model("workflows", "StatutoryAssessment")
        OldFollowUp = old_apps.get_model("workflows", "FollowUp")
        OldAssessment.objects.filter(need_item__application_id=kept.pk).update(
            evidence_reference="Avslag 2026-0117"
        )
        OldFollowUp.objects.filter(application_id=kept.pk).update(evidence_reference="Kvitto 88")
        item = erased.items.get()
        OldAssessment.objects.create(
            need_item_id=item.pk,
            outcome="not_obliged",
            evidence_reference="Beslut 2026-0042",
            grantable_amount=item.requested_amount.amount,
            grantable_amount_currency="SEK",
            assessed_by_id=world.officer.pk,
            assessed_at=erased.created_at,
        )
    finally:
        _migrate(AFTER)
        # Then every later migration too: the tests after this one need today's schema.
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assessment = StatutoryAssessment.objects.get(need_item__application=kept)
    follow_up = FollowUp.objects.get(application=kept)
    assert assessment.evidence_reference == "Avslag 2026-0117"
    assert follow_up.evidence_reference == "Kvitto 88"
    assert "2026-0117" not in assessment.encrypted_evidence_reference
    gone = StatutoryAssessment.objects.get(need_item__application=erased)
    assert gone.encrypted_evidence_reference == "" and gone.evidence_reference == ""
    with connection.cursor() as cursor:
        columns = [
            c.name
            for c in connection.introspection.get_table_description(
                cursor, StatutoryAssessment._meta.db_table
            )
        ]
    assert "evidence_reference" not in columns
