"""The audit event table and the head row that serialises appends."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.canonical import CanonicalJSONEncoder, format_timestamp
from core.append_only import AppendOnly


class AuditEvent(AppendOnly, models.Model):
    """One entry of the chain. Rows are never updated or deleted (database triggers)."""

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    occurred_at = models.DateTimeField(_("time (UTC)"))
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_role = models.CharField(_("role"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_ref = models.CharField(_("object reference"), max_length=64, blank=True, db_index=True)
    payload = models.JSONField(_("payload"), default=dict, encoder=CanonicalJSONEncoder)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_ref}"

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "occurred_at": format_timestamp(self.occurred_at),
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "action": self.action,
            "object_type": self.object_type,
            "object_ref": self.object_ref,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        }


class AuditHead(models.Model):
    """A single row holding the chain's head; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class AuditCheckpoint(AppendOnly, models.Model):
    """A signed statement that the chain had ``sequence`` entries ending in ``hash``.

    Signed with an Ed25519 key kept outside the database, so whoever can rewrite the table
    still cannot forge a checkpoint: truncation and wholesale rewriting become detectable.
    Rows are append-only like the events (database triggers).
    """

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    hash = models.CharField(_("head hash"), max_length=64)
    created_at = models.DateTimeField(_("created (UTC)"))
    signature = models.CharField(_("Ed25519 signature (base64)"), max_length=100)
    key_fingerprint = models.CharField(_("public key fingerprint (SHA-256)"), max_length=64)
    #: The signed checkpoint note (c2sp.org/tlog-checkpoint): origin, size, Merkle root,
    #: chain head and time, as the auditors receive it. Empty on first-format checkpoints,
    #: whose signature covers only (sequence, hash).
    note = models.TextField(_("signed checkpoint note"), blank=True)
    #: RFC 6962 Merkle root over the event hashes 1..sequence, hex (empty on old rows).
    root_hash = models.CharField(_("Merkle root"), max_length=64, blank=True)
    #: The Merkle tree's right edge at this size, so the next checkpoint hashes only the
    #: events since. A convenience: verification recomputes the tree from the events.
    frontier = models.TextField(blank=True)

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence} {self.hash[:12]}"


class AuditTimestamp(AppendOnly, models.Model):
    """An RFC 3161 timestamp token over one checkpoint's signed note, from an outside authority.

    Asked for after the checkpoint commits (appends never wait for the authority), kept
    append-only like the checkpoints. The token proves the note existed at ``gen_time``.
    """

    checkpoint = models.OneToOneField(
        AuditCheckpoint, on_delete=models.PROTECT, related_name="timestamp"
    )
    token = models.TextField(_("timestamp token (base64 DER)"))
    gen_time = models.DateTimeField(_("time stated by the authority (UTC)"))
    authority = models.CharField(_("timestamp authority"), max_length=200)

    class Meta:
        verbose_name = _("audit timestamp")
        verbose_name_plural = _("audit timestamps")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"timestamp of checkpoint #{self.checkpoint_id}"


class AuditVerificationRun(models.Model):
    """The outcome of one verification or checkpoint attempt, for the alert on the pages.

    Not evidence (the chain and the auditors' files are): a failed run is what makes the
    auditors' page and the dashboard say so in the embedded mode, where no mail may arrive.
    """

    ran_at = models.DateTimeField(_("ran at (UTC)"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20)  # verify | checkpoint | timestamp
    ok = models.BooleanField(_("intact"))
    sequence = models.PositiveBigIntegerField(_("first broken sequence"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=400)
    #: How many events a verification checked (None for the other kinds of run).
    checked = models.PositiveBigIntegerField(_("events checked"), null=True, blank=True)

    class Meta:
        ordering = ["-ran_at", "-id"]
        verbose_name = _("audit verification run")
        verbose_name_plural = _("audit verification runs")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.kind} {'ok' if self.ok else 'FAILED'} {self.ran_at:%Y-%m-%d %H:%M}"
