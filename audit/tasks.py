"""Periodic audit work for Celery: sign a checkpoint, verify the chain.

Both are idempotent: a checkpoint for an unchanged head is the existing one; verification
only reads. A broken chain is logged at ERROR, recorded for the auditors' page and the
dashboard, and mailed to ``settings.ADMINS`` and the alert recipients — with the sequence
number and the kind of break only, never any payload.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from audit.checkpoints import make_checkpoint
from audit.verification import verify_and_record

logger = logging.getLogger("fundflow.audit")


@shared_task(name="audit.create_checkpoint")
def create_checkpoint() -> dict[str, Any] | None:
    checkpoint = make_checkpoint()
    if checkpoint is None:
        return None
    return {"sequence": checkpoint.sequence, "hash": checkpoint.hash}


@shared_task(name="audit.verify_chain")
def verify_chain() -> dict[str, Any]:
    outcome = verify_and_record()
    if outcome.broken is None:
        logger.info(outcome.line())
    return {
        "ok": outcome.ok,
        "entries": outcome.entries,
        "last_sequence": outcome.last_sequence,
        "broken_sequence": outcome.broken.sequence if outcome.broken else None,
        "problem": str(outcome.broken.problem) if outcome.broken else None,
    }
