"""Review of issue #15: automatic checkpoints must not fail silently."""

from __future__ import annotations

import pytest

from audit.models import AuditVerificationRun
from tests.audit.conftest import append

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_checkpoint_task_the_broker_cannot_take_is_recorded_as_a_failed_run(
    settings, transactional_db, monkeypatch
):
    from audit import tasks

    settings.AUDIT_AUTO_CHECKPOINT = True
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker is configured …
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 1

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")  # … but does not answer

    monkeypatch.setattr(tasks.create_checkpoint, "delay", broker_down)

    append(1)  # the user's change commits; the checkpoint cannot be queued

    run = AuditVerificationRun.objects.filter(kind="checkpoint").first()
    assert run is not None and not run.ok


def test_a_checkpoint_whose_mail_failed_is_carried_by_the_next_mail(settings):
    """A failed mail leaves no gap in the auditors' copies, and shows as a failed run."""
    from unittest import mock

    from django.core import mail

    from audit.checkpoint_file import parse_checkpoint_file
    from audit.checkpoints import latest_failure, make_checkpoint
    from audit.models import AuditCheckpoint
    from tests.audit.conftest import append

    settings.AUDIT_CHECKPOINT_RECIPIENTS = ["revisor@example.org"]
    append(2)
    with mock.patch("audit.checkpoints.send_mail", side_effect=ConnectionRefusedError):
        make_checkpoint()
    failure = latest_failure()
    assert failure is not None and failure.kind == "mail"
    assert mail.outbox == []
    append(2)
    make_checkpoint()
    (message,) = mail.outbox
    body = message.body[message.body.index("fundflow-audit-checkpoints/v1") :]
    notes = parse_checkpoint_file(body).notes
    assert notes == list(
        AuditCheckpoint.objects.order_by("sequence").values_list("note", flat=True)
    )
    assert len(notes) == 2
    assert latest_failure() is None
