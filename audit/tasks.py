"""Periodic audit work for Celery beat: sign a checkpoint, verify the chain.

Both are idempotent: a checkpoint for an unchanged head is the existing one; verification
only reads. A broken chain is logged at ERROR and mailed to ``settings.ADMINS`` — with the
sequence number and the kind of break only, never any payload.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.core.mail import mail_admins

from audit.services import ChainBroken
from audit.services import create_checkpoint as _create_checkpoint
from audit.verification import verify_chain as _verify_chain

logger = logging.getLogger("fundflow.audit")


@shared_task(name="audit.create_checkpoint")
def create_checkpoint() -> dict[str, Any] | None:
    try:
        checkpoint = _create_checkpoint()
    except ChainBroken as exc:
        logger.error("audit checkpoint refused: %s", exc)
        mail_admins("Audit chain broken: no checkpoint signed", str(exc))
        raise
    if checkpoint is None:
        return None
    return {"sequence": checkpoint.sequence, "hash": checkpoint.hash}


@shared_task(name="audit.verify_chain")
def verify_chain() -> dict[str, Any]:
    outcome = _verify_chain()
    if outcome.broken is not None:
        logger.error(outcome.broken.line())
        mail_admins(
            f"Audit chain broken at sequence {outcome.broken.sequence}",
            outcome.broken.line() + "\n\nRun `manage.py audit_verify` for details.",
        )
    else:
        logger.info(outcome.line())
    return {
        "ok": outcome.ok,
        "entries": outcome.entries,
        "last_sequence": outcome.last_sequence,
        "broken_sequence": outcome.broken.sequence if outcome.broken else None,
        "problem": str(outcome.broken.problem) if outcome.broken else None,
    }
