"""The API shows an evidence reference only through the logged person endpoint (issue #14)."""

from __future__ import annotations

from audit.models import AuditEvent

EVIDENCE = "Avslag soc dnr 2026-0117"


def test_the_evidence_reference_is_read_through_the_logged_person_endpoint(world, as_role):
    app = world.to_statutory_check(world.new_application("1000"))
    world.assess_all(app, evidence_reference=EVIDENCE)
    client = as_role("officer")

    items = client.get(f"/api/v1/applications/{app.reference}/items/").json()["results"]
    assert items[0]["statutory_assessment"]["evidence_given"] is True
    assert EVIDENCE not in str(items)
    assert not AuditEvent.objects.filter(action="personal_data.viewed").exists()

    person = client.get(f"/api/v1/applications/{app.reference}/person/").json()
    assert person["need_descriptions"][0]["evidence_reference"] == EVIDENCE
    assert AuditEvent.objects.filter(action="personal_data.viewed").count() == 1
