"""Reminders for cases that wait too long, and the record that makes tasks run once.

A reminder is unique per case, kind, recipient and the moment the case began to wait
(``waiting_since``): running the daily task again, or a task delivered twice, creates none
twice, while a case that waits again later (a new state change) gets a new reminder.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fund.models import Application


class ReminderKind(models.TextChoices):
    AWAITING_OMBUD = "awaiting_ombud", _("Waiting for the ombud's attestation")
    NEEDS_COMPLETION = "needs_completion", _("Waiting for komplettering")
    UNPAID = "unpaid", _("Approved but not paid")


class Reminder(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    waiting_since = models.DateTimeField(_("waiting since"))
    days = models.PositiveIntegerField(_("days waiting when reminded"))
    created_at = models.DateTimeField(_("created at"))
    emailed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind", "recipient", "waiting_since"],
                name="one_reminder_per_wait",
            )
        ]
        indexes = [models.Index(fields=["recipient", "dismissed_at"])]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.kind} → {self.recipient_id}"


class TaskExecution(models.Model):
    """One row per task run that changed something; the unique key makes it happen once."""

    key = models.CharField(max_length=200, unique=True)
    task = models.CharField(max_length=100)
    finished_at = models.DateTimeField()

    class Meta:
        verbose_name = _("task execution")
        verbose_name_plural = _("task executions")

    def __str__(self) -> str:
        return self.key
