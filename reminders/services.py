"""Which cases wait too long, the in-app reminders for them, and the mails.

Limits are the fund's own (``awaiting_ombud_reminder_days``, ``completion_reminder_days``,
``unpaid_reminder_days``). Mails name cases by reference only — never a person's values.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import record_event
from core.roles import Role
from fund.models import Application, Fund, OmbudStatus
from fund.states import State
from reminders.models import Reminder, ReminderKind

logger = logging.getLogger("fundflow.reminders")

#: Per kind: the states that wait, the fund's limit field, and what the wait is counted from.
RULES: dict[str, tuple[tuple[str, ...], str, str]] = {
    ReminderKind.AWAITING_OMBUD: (
        (State.AWAITING_OMBUD,),
        "awaiting_ombud_reminder_days",
        "state_changed_at",
    ),
    ReminderKind.NEEDS_COMPLETION: (
        (State.NEEDS_COMPLETION,),
        "completion_reminder_days",
        "state_changed_at",
    ),
    # Counted from the decision, so scheduling the payout does not restart the clock.
    ReminderKind.UNPAID: (
        (State.APPROVED, State.PAYOUT_SCHEDULED),
        "unpaid_reminder_days",
        "decided_at",
    ),
}


@dataclass(frozen=True)
class Due:
    application: Application
    kind: str
    waiting_since: datetime
    days: int


def due_cases(now: datetime | None = None) -> Iterator[Due]:
    """Every case waiting longer than its fund allows, per kind."""
    now = now or timezone.now()
    for fund in Fund.objects.all():
        for kind, (states, limit_field, since_field) in RULES.items():
            limit = timedelta(days=getattr(fund, limit_field))
            cases = (
                Application.objects.filter(fund=fund, state__in=states)
                .annotate(since=Coalesce(since_field, "state_changed_at", "created_at"))
                .filter(since__lte=now - limit)
                .select_related("ombud__user", "fund")
                .order_by("pk")
            )
            for app in cases:
                yield Due(app, kind, app.since, (now - app.since).days)  # type: ignore[attr-defined]


def _treasurers() -> QuerySet[Any]:
    return get_user_model().objects.filter(groups__name=Role.TREASURER, is_active=True)


def recipients(due: Due) -> list[Any]:
    if due.kind == ReminderKind.UNPAID:
        return list(_treasurers())
    ombud = due.application.ombud
    if ombud.status == OmbudStatus.REVOKED:
        return []  # the case waits for an officer to hand it to another ombud
    return [ombud.user] if ombud.user.is_active else []


def create_reminders(now: datetime | None = None) -> list[Reminder]:
    """The in-app reminders not made yet; call inside a transaction."""
    now = now or timezone.now()
    candidates = [
        Reminder(
            application=due.application,
            kind=due.kind,
            recipient=user,
            waiting_since=due.waiting_since,
            days=due.days,
            created_at=now,
        )
        for due in due_cases(now)
        for user in recipients(due)
    ]
    existing = {
        (r.application_id, r.kind, r.recipient_id, r.waiting_since)
        for r in Reminder.objects.filter(
            application_id__in={c.application_id for c in candidates}
        ).only("application_id", "kind", "recipient_id", "waiting_since")
    }
    new = [
        c
        for c in candidates
        if (c.application_id, c.kind, c.recipient_id, c.waiting_since) not in existing
    ]
    # A concurrent run may have made some meanwhile: the constraint keeps one of each.
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return new


def _mail(user: Any, reminders: list[Reminder]) -> tuple[str, str, str, list[str]]:
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("%(ref)s: %(kind)s for %(days)s days (since %(since)s).")
            % {
                "ref": r.application.reference,
                "kind": ReminderKind(r.kind).label,
                "days": r.days,
                "since": timezone.localdate(r.waiting_since).isoformat(),
            }
            for r in reminders
        ]
        subject = _("Fundflow: %(n)s cases are waiting") % {"n": len(reminders)}
        intro = _("These cases have waited longer than their fund allows:")
        link = _("Open Fundflow: %(url)s") % {"url": settings.SITE_URL}
        body = "\n".join([intro, "", *lines, "", link])
    return subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]


def mail_pending() -> int:
    """Mail every reminder not mailed yet, one mail per recipient; call inside a transaction.

    Sent inside the transaction that marks them mailed: if it rolls back after sending, the
    next run sends again (a reminder may arrive twice, never not at all).
    """
    pending = list(
        Reminder.objects.filter(emailed_at__isnull=True, dismissed_at__isnull=True)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("application", "recipient")
        .order_by("recipient_id", "application__reference")
    )
    by_user: dict[Any, list[Reminder]] = defaultdict(list)
    for reminder in pending:
        by_user[reminder.recipient].append(reminder)
    messages = [_mail(user, rs) for user, rs in by_user.items() if user.email]
    if messages:
        send_mass_mail(messages, fail_silently=False)
    Reminder.objects.filter(pk__in=[r.pk for r in pending]).update(emailed_at=timezone.now())
    return len(messages)


def send_due_reminders(now: datetime | None = None) -> dict[str, Any]:
    """Create the reminders due now, record it, and mail them; one transaction."""
    with transaction.atomic():
        created = create_reminders(now)
        applications = sorted({r.application.reference for r in created})
        if created:
            record_event(
                action="reminders.created",
                object_type="reminder_run",
                payload={
                    "count": len(created),
                    "applications": applications,
                    "kinds": sorted({r.kind for r in created}),
                },
            )
        mails = mail_pending()
    logger.info("reminders: %s created for %s, %s mails", len(created), applications, mails)
    return {"created": len(created), "applications": applications, "mails": mails}


def dismiss(reminder: Reminder, *, actor: Any) -> Reminder:
    """Dismiss the reminder once; dismissing it again (two tabs, a retried request) is a
    conflict, the same answer however the two requests interleave."""
    from core.exceptions import ConflictError, PermissionDenied

    with transaction.atomic():
        if reminder.recipient_id != actor.pk:
            raise PermissionDenied(_("This reminder is not yours."))
        reminder = (
            Reminder.objects.select_for_update().select_related("application").get(pk=reminder.pk)
        )
        if reminder.dismissed_at is not None:
            raise ConflictError(_("This reminder was already dismissed."))
        reminder.dismissed_at = timezone.now()
        reminder.save(update_fields=["dismissed_at"])
    return reminder
