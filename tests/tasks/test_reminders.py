"""Reminders for cases that wait too long: in-app list and mail, each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from fund.models import Application
from reminders.models import Reminder, TaskExecution
from reminders.services import send_due_reminders
from reminders.tasks import send_reminders

pytestmark = pytest.mark.django_db


def _waiting(app, days, field="state_changed_at"):
    Application.objects.filter(pk=app.pk).update(**{field: timezone.now() - timedelta(days=days)})
    return Application.objects.get(pk=app.pk)


def _awaiting_ombud(world, days):
    app = world.run(
        world.new_application("1000", name="Fatima Popescu"), "submit", world.ombud.user
    )
    app = world.run(app, "request_attestation", world.officer)
    return _waiting(app, days)


def test_a_case_waiting_for_the_ombud_longer_than_the_fund_allows_reminds_the_ombud(world):
    late = _awaiting_ombud(world, 15)
    _awaiting_ombud(world, 13)  # within the fund's 14 days

    result = send_due_reminders()

    reminder = Reminder.objects.get()
    assert (reminder.application, reminder.kind, reminder.recipient) == (
        late,
        "awaiting_ombud",
        world.ombud.user,
    )
    assert reminder.days == 15
    assert result["applications"] == [late.reference]


def test_komplettering_waits_by_the_funds_own_limit(world):
    world.fund.completion_reminder_days = 5
    world.fund.save()
    app = world.run(world.new_application("1000"), "submit", world.ombud.user)
    app = world.run(app, "request_completion", world.officer, message="Bifoga kvitto")
    _waiting(app, 6)

    send_due_reminders()

    assert Reminder.objects.get().kind == "needs_completion"


def test_approved_but_unpaid_reminds_every_treasurer_counted_from_the_decision(world):
    app = world.to_approved(world.new_application("1000"))
    app = _waiting(app, 11, field="decided_at")
    world.run(app, "schedule_payout", world.treasurer)  # a new state, same decision

    send_due_reminders()

    assert {r.recipient for r in Reminder.objects.filter(kind="unpaid")} == {
        world.treasurer,
        world.treasurer2,
    }


def test_running_again_makes_no_second_reminder_nor_mail(world):
    _awaiting_ombud(world, 20)

    send_due_reminders()
    send_due_reminders()

    assert Reminder.objects.count() == 1
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="reminders.created").count() == 1


def test_the_mail_names_cases_by_reference_only(world):
    app = _awaiting_ombud(world, 20)

    send_due_reminders()

    message = mail.outbox[0]
    assert message.to == [world.ombud.user.email]
    assert app.reference in message.body
    text = f"{message.subject}\n{message.body}"
    for secret in ("Fatima", "Popescu", app.beneficiary.reference):
        assert secret not in text


def test_a_duplicate_delivery_does_the_work_once(world):
    _awaiting_ombud(world, 20)

    first = send_reminders.apply(task_id="delivery-1").get()
    again = send_reminders.apply(task_id="delivery-1").get()

    assert first["created"] == 1
    assert again is None
    assert TaskExecution.objects.filter(key="reminders.send_reminders:delivery-1").count() == 1
    assert len(mail.outbox) == 1


def test_the_recipient_sees_and_dismisses_reminders_in_the_api(world, client_for):
    _awaiting_ombud(world, 20)
    send_due_reminders()
    ombud, officer = client_for(world.ombud.user), client_for(world.officer)

    listed = ombud.get("/api/v1/reminders/").json()["results"]
    assert [r["kind"] for r in listed] == ["awaiting_ombud"]
    assert officer.get("/api/v1/reminders/").json()["results"] == []
    assert officer.post(f"/api/v1/reminders/{listed[0]['id']}/dismiss/").status_code == 404
    assert ombud.post(f"/api/v1/reminders/{listed[0]['id']}/dismiss/").status_code == 200
    assert ombud.get("/api/v1/reminders/").json()["results"] == []
