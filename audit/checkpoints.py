"""Checkpoints: signed notes of the log's state that leave the server, made in every mode.

A checkpoint is made when the log has grown by ``AUDIT_CHECKPOINT_EVERY_EVENTS`` events or
its latest checkpoint is ``AUDIT_CHECKPOINT_EVERY_MINUTES`` old — by the request that
commits the crossing event (or the first request after an idle spell, see
:mod:`audit.middleware`), in-process in the embedded mode and by a Celery task where a
broker runs. Each one is then sent where the operator cannot take it back: by mail to the
auditors (``AUDIT_CHECKPOINT_RECIPIENTS``) and to an RFC 3161 timestamp authority when one
is configured. The auditors' file (:func:`auditors_file`) holds every note and token.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from audit.canonical import format_timestamp
from audit.checkpoint_file import write_checkpoint_file
from audit.merkle import Frontier
from audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditTimestamp
from audit.models import AuditVerificationRun as Run
from audit.note import CheckpointBody, split_note

logger = logging.getLogger("fundflow.audit")


class ChainBroken(RuntimeError):
    """A checkpoint was refused because the entries it would vouch for do not verify."""


def _frontier_from_scratch(size: int) -> Frontier:
    from audit.proofs import leaves

    frontier = Frontier()
    for leaf in leaves(size):
        frontier.append(leaf)
    return frontier


def create_checkpoint(*, wait: bool = True) -> AuditCheckpoint | None:
    """Sign the chain's current head, after verifying the entries since the last checkpoint.

    Idempotent: when nothing was appended since the latest checkpoint, that checkpoint is
    returned. Returns None for an empty chain, or — with ``wait=False``, as automatic
    checkpoints ask — when appends hold the lock (the next commit looks again). Appends
    wait while it runs (it holds the append lock), so the signed head is the head.
    """
    from audit.services import _lock_head
    from audit.signing import fingerprint, log_origin, sign_note, signer
    from audit.verification import verify_since_last_checkpoint

    with transaction.atomic():
        head = _lock_head(wait=wait)
        if head is None:
            return None
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        if last is None and head[0] == 0:
            return None
        if last != head:
            raise ChainBroken(
                f"the head row records {head[0]} entries but the table ends at "
                f"{last[0] if last else 0}: the tail was cut or the head row changed"
            )
        sequence, head_hash = head
        existing = AuditCheckpoint.objects.filter(sequence=sequence).first()
        if existing is not None:
            return existing
        outcome, frontier = verify_since_last_checkpoint()
        if outcome.broken is not None:
            raise ChainBroken(outcome.broken.line())
        if frontier is None or frontier.size != sequence:
            frontier = _frontier_from_scratch(sequence)
        now = timezone.now()
        root = frontier.root()
        body = CheckpointBody(log_origin(), sequence, root, head_hash, format_timestamp(now))
        note = sign_note(body.text())
        signature = split_note(note)[1][0].signature
        _seen["latest"] = (sequence, now)
        return AuditCheckpoint.objects.create(
            sequence=sequence,
            hash=head_hash,
            created_at=now,
            signature=base64.b64encode(signature).decode("ascii"),
            key_fingerprint=fingerprint(signer().public_key()),
            note=note,
            root_hash=root.hex(),
            frontier=frontier.encode(),
        )


#: The latest checkpoint this process has seen: (sequence, created_at). Checkpoints are only
#: ever added, so an older view can only make the next one look *more* due than it is: a
#: "not due" from it is safe, and a "due" is confirmed from the database. So the commit of
#: an ordinary change costs no query for this.
_seen: dict[str, tuple[int, datetime] | None] = {"latest": None}


def forget_seen_checkpoint() -> None:
    """Drop the process's view (tests that swap databases)."""
    _seen["latest"] = None


def _due(head: int, latest: tuple[int, datetime] | None) -> bool:
    if latest is None:
        return True
    sequence, created_at = latest
    if head <= sequence:
        return False
    if head - sequence >= settings.AUDIT_CHECKPOINT_EVERY_EVENTS:
        return True
    age = timezone.now() - created_at
    return age >= timedelta(minutes=settings.AUDIT_CHECKPOINT_EVERY_MINUTES)


def checkpoint_due(head: int | None = None) -> bool:
    """Has the log grown by the set number of events, or is its latest checkpoint too old?

    ``head`` is the sequence a committed transaction appended up to, when known.
    """
    if head is None:
        head = AuditHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0
    if head == 0:
        return False
    seen = _seen["latest"]
    if seen is not None and seen[0] <= head and not _due(head, seen):
        return False
    latest = (
        AuditCheckpoint.objects.order_by("-sequence").values_list("sequence", "created_at").first()
    )
    _seen["latest"] = latest
    return _due(head, latest)


def record_run(
    kind: str, ok: bool, summary: str, sequence: int | None = None, checked: int | None = None
) -> Run:
    """Keep the outcome for the auditors' page and the dashboard (its own transaction)."""
    with transaction.atomic():
        return Run.objects.create(
            ran_at=timezone.now(),
            kind=kind,
            ok=ok,
            sequence=sequence,
            summary=summary[:400],
            checked=checked,
        )


def last_verification() -> tuple[datetime, bool] | None:
    """(when, whether the chain was intact) of the latest full verification; None before
    the first. What readiness and the metrics report."""
    return (
        Run.objects.filter(kind="verify")
        .order_by("-ran_at", "-id")
        .values_list("ran_at", "ok")
        .first()
    )


def last_verification_run() -> Run | None:
    """The latest full verification's record (what the API reports); None before the first."""
    return Run.objects.filter(kind="verify").order_by("-ran_at", "-id").first()


def latest_failure() -> Run | None:
    """The latest failed run, unless a later run of the same kind succeeded."""
    failed = Run.objects.filter(ok=False).first()
    if failed is None:
        return None
    later_ok = Run.objects.filter(kind=failed.kind, ok=True, ran_at__gte=failed.ran_at)
    return None if later_ok.exclude(pk=failed.pk).exists() else failed


def alert(subject: str, body: str) -> None:
    """Mail the admins and the alert recipients; never raise (the page shows it too)."""
    try:
        mail_admins(subject, body)
        recipients = list(settings.AUDIT_ALERT_RECIPIENTS)
        if recipients:
            send_mail(subject, body, None, recipients)
    except Exception:  # a mail server down must not hide the alert's other half
        logger.exception("audit alert could not be mailed")


def stamp(checkpoint: AuditCheckpoint) -> AuditTimestamp | None:
    """Ask the configured authority for a token over the checkpoint's note, and keep it."""
    from audit import timestamping

    if not checkpoint.note or not settings.AUDIT_TSA_URL:
        return None
    existing = AuditTimestamp.objects.filter(checkpoint=checkpoint).first()
    if existing is not None:
        return existing
    token = timestamping.stamp(checkpoint.note.encode())
    if token is None:
        return None
    gen_time = timestamping.token_time(token)
    with transaction.atomic():
        return AuditTimestamp.objects.create(
            checkpoint=checkpoint,
            token=base64.b64encode(token).decode("ascii"),
            gen_time=gen_time,
            authority=settings.AUDIT_TSA_URL[:200],
        )


def auditors_file(checkpoints: list[AuditCheckpoint] | None = None) -> str:
    """The auditors' checkpoint file: the log's verifier key, every signed note and token."""
    from audit.signing import verifier_key

    chosen = checkpoints
    if chosen is None:
        chosen = list(AuditCheckpoint.objects.exclude(note="").order_by("sequence"))
    stamped = AuditTimestamp.objects.filter(checkpoint__in=chosen)
    tokens = {t.checkpoint_id: t.token for t in stamped}
    return write_checkpoint_file(
        verifier_key(),
        [cp.note for cp in chosen if cp.note],
        {cp.note: tokens[cp.pk] for cp in chosen if cp.pk in tokens},
    )


def publish(checkpoint: AuditCheckpoint) -> None:
    """Send a new checkpoint out: to the timestamp authority, then by mail to the auditors."""
    try:
        stamp(checkpoint)
    except Exception as exc:
        logger.warning("checkpoint %s not timestamped: %s", checkpoint.sequence, exc)
        record_run("timestamp", False, f"checkpoint {checkpoint.sequence}: {exc}")
        alert(f"Audit checkpoint {checkpoint.sequence} not timestamped", str(exc))
    mail_to_auditors(checkpoint)


#: At most this many checkpoints in one mail (the page offers the whole file).
MAIL_AT_MOST = 500


def mail_to_auditors(checkpoint: AuditCheckpoint) -> None:
    """Mail every checkpoint up to this one that no mail carried yet, so a failed mail
    leaves no gap in the auditors' copies: the next one carries what it missed."""
    recipients = list(settings.AUDIT_CHECKPOINT_RECIPIENTS)
    if not recipients:
        return
    mailed = Run.objects.filter(kind="mail", ok=True).aggregate(last=Max("sequence"))["last"]
    pending = list(
        AuditCheckpoint.objects.exclude(note="")
        .filter(sequence__gt=mailed or 0, sequence__lte=checkpoint.sequence)
        .order_by("-sequence")[:MAIL_AT_MOST]
    )[::-1]
    try:
        send_mail(
            f"Audit checkpoint {checkpoint.sequence} ({settings.AUDIT_LOG_ORIGIN})",
            "Keep this file. It lets you check later that the audit log was not rewritten:\n"
            "  python -m audit.verify TRAIL.jsonl --against THIS_FILE\n"
            "and that one event is in it:\n"
            "  python -m audit.proof PROOF.json --against THIS_FILE\n\n" + auditors_file(pending),
            None,
            recipients,
        )
    except Exception as exc:  # the checkpoint stands; the next mail carries it
        logger.error("checkpoint %s not mailed: %s", checkpoint.sequence, type(exc).__name__)
        record_run(
            "mail",
            False,
            f"checkpoint {checkpoint.sequence} not mailed to the auditors "
            f"({type(exc).__name__}); the next checkpoint's mail carries it",
        )
        return
    record_run("mail", True, f"checkpoints up to {checkpoint.sequence} mailed", checkpoint.sequence)


def make_checkpoint(*, wait: bool = True) -> AuditCheckpoint | None:
    """Create, publish and record one checkpoint; a broken chain is alerted, then raised."""
    from audit.signer import SignerRefused

    try:
        checkpoint = create_checkpoint(wait=wait)
    except ChainBroken as exc:
        logger.error("audit checkpoint refused: %s", exc)
        record_run("checkpoint", False, str(exc))
        alert("Audit chain broken: no checkpoint signed", str(exc))
        raise
    except SignerRefused as exc:
        # The signer process saw a log that does not extend what it signed, or a bad clock.
        logger.error("audit checkpoint refused by the signer: %s", exc)
        record_run("checkpoint", False, str(exc))
        alert("Audit checkpoint refused by the signer", str(exc))
        raise
    if checkpoint is None:
        return None
    publish(checkpoint)
    record_run("checkpoint", True, f"checkpoint at {checkpoint.sequence}", checkpoint.sequence)
    return checkpoint


def checkpoint_if_due(head: int | None = None) -> None:
    """Make a checkpoint when one is due: here (embedded) or by the worker (broker set)."""
    if not settings.AUDIT_AUTO_CHECKPOINT or not checkpoint_due(head):
        return
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from audit.tasks import create_checkpoint as task

        try:
            task.delay()
        except Exception as exc:  # a broker down: nothing else would notice the missing checkpoint
            logger.exception("audit checkpoint task could not be queued")
            # The class only: a broker's message may spell its URL, password included.
            what = (
                f"the checkpoint task could not be queued ({type(exc).__name__}): is the broker up?"
            )
            record_run("checkpoint", False, what)
            alert("Audit checkpoint not queued", what + " See the server log.")
        return
    from audit.signer import SignerRefused

    try:
        make_checkpoint(wait=False)
    except (ChainBroken, SignerRefused):
        pass  # recorded and alerted; the user's committed change stands
    except Exception:
        logger.exception("automatic audit checkpoint failed")
        record_run("checkpoint", False, "the automatic checkpoint failed; see the server log")


def schedule_after_commit() -> None:
    """Once per transaction that appends: after it commits, checkpoint if due."""
    if not settings.AUDIT_AUTO_CHECKPOINT:
        return
    if any(entry[1] is _after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(_after_commit)


def _after_commit() -> None:
    try:
        checkpoint_if_due(getattr(connection, "audit_appended_up_to", None))
    except Exception:  # never fail a request whose change has committed
        logger.exception("automatic audit checkpoint failed")
