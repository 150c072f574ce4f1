"""No personal value ever reaches the audit log or an exported trail."""

from __future__ import annotations

import json

from django.core.management import call_command
from stdnum.se import personnummer

from audit.models import AuditCheckpoint, AuditEvent
from workflows import services
from workflows.services import NeedInput

NAME = "Ljubomira Zdravkovska-Öhrn"
NUMBER = "19811218-9876"
CONTACT = "ljubomira@example.org, 070-123 45 67"


def _everything_stored() -> str:
    rows = list(AuditEvent.objects.values()) + list(AuditCheckpoint.objects.values())
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_a_whole_case_leaves_no_name_or_personnummer_in_the_audit_log(world, tmp_path):
    assert personnummer.is_valid(NUMBER)
    person = services.register_beneficiary(
        actor=world.ombud.user,
        name=NAME,
        personal_number=NUMBER,
        contact=CONTACT,
        protected_identity=True,
        region="AB",
    )
    assert person.personal_data["name"] == NAME  # the value is really stored (encrypted)
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[NeedInput(category="glasses", amount="1500", description="Glasögon")],
    )
    app = world.to_paid(app)
    app = world.run(app, "close", world.officer)
    call_command("audit_checkpoint")
    trail = tmp_path / "trail.jsonl"
    call_command("audit_export", output=trail)
    partial = tmp_path / "case.jsonl"
    call_command("audit_export", output=partial, application=app.reference)

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"beneficiary.registered", "application.created", "application.close"} <= actions
    compact = personnummer.compact(NUMBER)
    forbidden = [NAME, "Ljubomira", "Zdravkovska", NUMBER, compact, compact[2:], "070-123"]
    for text in (_everything_stored(), trail.read_text(), partial.read_text()):
        for value in forbidden:
            assert value not in text
        assert person.reference in text
