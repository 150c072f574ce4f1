"""Payout file jobs: a treasurer asks for an approved batch's pain.001 file, a worker writes it.

The job lets whoever asked (a page or an integrator) follow the export to its end: queued,
running, done with the file's digest, or failed with the refusal in the service's words. A
refusal is final (the batch is not exportable as it stands); asking again while a job is queued
or running answers that same job, so a retried request never queues a second export.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounting.models import BatchStatus, ExportStatus, PaymentBatch, PayoutFileJob
from accounting.payouts.access import require_treasurer
from audit.services import record_event
from core.exceptions import ValidationFailed
from core.roles import Role

#: A job in one of these states may still write the file.
OPEN_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def request_payout_file(batch: PaymentBatch, *, actor: Any) -> PayoutFileJob:
    """Queue the export of the batch's file, or answer the job already queued or running."""
    require_treasurer(actor=actor)
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (BatchStatus.APPROVED, BatchStatus.SENT):
            raise ValidationFailed(
                _("A batch is exported only after a second treasurer approved it.")
            )
        open_job = PayoutFileJob.objects.filter(batch=batch, status__in=OPEN_STATUSES).first()
        if open_job is not None:
            return open_job
        job = PayoutFileJob.objects.create(
            batch=batch, requested_by=actor, language=get_language() or ""
        )
        record_event(
            action="payout.file_requested",
            actor=actor,
            role=Role.TREASURER,
            object_type="payment_batch",
            object_ref=batch.message_id,
            payload={"batch": batch.pk, "job": str(job.pk)},
        )
        transaction.on_commit(lambda: enqueue_payout_file(job))
    return job


def enqueue_payout_file(job: PayoutFileJob) -> None:
    """Hand the job to a worker; the job's id is the task's id, so both can be followed."""
    from accounting.tasks import generate_payout_file

    generate_payout_file.apply_async(kwargs={"job_id": str(job.pk)}, task_id=str(job.pk))
