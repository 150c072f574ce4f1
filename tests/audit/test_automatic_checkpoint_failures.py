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
