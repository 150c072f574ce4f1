"""Every API endpoint that returns a person's values logs the look, for every role.

Endpoints are not listed by hand: each GET endpoint of the permission table is called by each
role it answers 200 to, and if a person's value appears in the response, a
``personal_data.viewed`` event must have been written by that request.
"""

from __future__ import annotations

import pytest

from accounting.models import ExportJob, PayoutFileJob
from accounting.payouts import batches
from audit.models import AuditEvent
from reminders.models import Reminder
from tests.api.test_permissions import ROLES, RULES, _client
from tests.factories import OmbudFactory, UserFactory

NAME = "Quirina Zappelberg"
DESCRIPTION = "Vinterkängor storlek 31 åt dottern"


def _views() -> int:
    return AuditEvent.objects.filter(action="personal_data.viewed").count()


@pytest.mark.django_db
def test_every_endpoint_returning_personal_data_logs_the_access(world, tmp_path):
    case = world.new_application("1000", name=NAME)
    item = case.items.get()
    item.description = DESCRIPTION
    item.save()
    case = world.to_approved(case)
    other = world.to_approved(world.new_application("500"))
    world.run(other, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[other])
    reminder = Reminder.objects.create(
        application=case,
        kind="unpaid",
        recipient=world.ombud.user,
        waiting_since=case.decided_at,
        days=11,
        created_at=case.decided_at,
    )
    export_file = tmp_path / "export.csv"
    export_file.write_text("voucher\n", encoding="utf-8")
    job = ExportJob.objects.create(
        kind="ledger_csv", created_by=world.treasurer, status="done", file_path=str(export_file)
    )
    refs = {
        "case": case.reference,
        "batch": batch.message_id,
        "reminder": reminder.pk,
        "job": job.pk,
        # The audit log's events hold ids and codes, never the person's values.
        "event": AuditEvent.objects.get(
            action="application.approve", object_ref=case.reference
        ).sequence,
        "payout_job": PayoutFileJob.objects.create(batch=batch, requested_by=world.treasurer).pk,
    }
    users = {
        "ombud": world.ombud.user,
        "other_ombud": OmbudFactory().user,
        "officer": world.officer,
        "outside_officer": UserFactory(roles=["officer"]),
        "decider": world.decider,
        "treasurer": world.treasurer2,
        "auditor": world.auditor,
        "admin": world.admin,
    }
    shown, unlogged = [], []
    for (name, method), rule in RULES.items():
        if method != "GET":
            continue
        for role in ROLES:
            if role == "anonymous" or rule.expected[role] != 200:
                continue
            before = _views()
            response = _client(users[role]).get(rule.path.format(**refs))
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode("utf-8", errors="replace")
            if NAME in body or DESCRIPTION in body:
                shown.append((name, role))
                if _views() == before:
                    unlogged.append((name, role))
    assert shown, "the check must see personal data somewhere, or it proves nothing"
    assert unlogged == []
