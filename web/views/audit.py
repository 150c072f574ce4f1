"""The auditor's pages. They only read: every one is GET-only (tested).

The staff directory download is a read the log records (like a view of personal data).
"""

from __future__ import annotations

import io
import json
from datetime import datetime, time
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import signing
from audit.checkpoints import auditors_file
from audit.exports import export_trail
from audit.models import AuditCheckpoint, AuditEvent
from audit.staff_directory import staff_directory
from audit.verification import VerificationNotPossible, verify_chain
from core.exceptions import ValidationFailed
from core.roles import Role
from fund.models import Application
from web.access import page
from workflows.decision_trail import (
    ACTION_LABELS,
    action_label,
    actor_name,
    decision_trail,
    role_label,
    staff_names,
)

AUDIT_PAGE_SIZE = 50


class TrailSearchForm(forms.Form):
    reference = forms.CharField(label=_("Application reference"), max_length=16, required=False)


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Event type"), required=False)
    object_ref = forms.CharField(label=_("Object reference"), max_length=64, required=False)
    actor = forms.TypedChoiceField(label=_("Who"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = sorted(ACTION_LABELS, key=lambda code: str(ACTION_LABELS[code]).casefold())
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", _("All event types")),
            *((code, ACTION_LABELS[code]) for code in types),
        ]
        # Staff by name (the auditor may see who acted; the people in cases are no users).
        users = get_user_model().objects.only("pk", "username", "first_name", "last_name")
        #: Every user's name by id: the choices, and the names in the log's rows.
        self.staff_names = {user.pk: user.get_full_name() or user.get_username() for user in users}
        cast(forms.ChoiceField, self.fields["actor"]).choices = [
            ("", _("Anyone")),
            *sorted(self.staff_names.items(), key=lambda choice: choice[1].casefold()),
        ]


class StaffDirectoryForm(forms.Form):
    start = forms.DateField(label=_("From date"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To date"), widget=forms.DateInput(attrs={"type": "date"}))


@page(Role.AUDITOR)
def audit_home(request: HttpRequest) -> HttpResponse:
    form = TrailSearchForm(request.GET or None)
    app = None
    trail = None
    searched = False
    if form.is_valid() and form.cleaned_data["reference"]:
        searched = True
        app = (
            Application.objects.select_related("fund", "beneficiary")
            .filter(reference=form.cleaned_data["reference"].strip().upper())
            .first()
        )
        trail = decision_trail(app) if app is not None else None
    return render(
        request,
        "web/audit_home.html",
        {"form": form, "app": app, "trail": trail, "searched": searched},
    )


@page(Role.AUDITOR)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = LogFilterForm(request.GET or None)
    events = AuditEvent.objects.order_by("-sequence")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["object_ref"]:
            events = events.filter(object_ref=data["object_ref"].strip())
        if data["actor"] is not None:
            events = events.filter(actor_id=data["actor"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(
                occurred_at__gte=datetime.combine(data["since"], time.min, tzinfo=zone)
            )
        if data["until"]:
            events = events.filter(
                occurred_at__lte=datetime.combine(data["until"], time.max, tzinfo=zone)
            )
    rows = Paginator(
        events.only("sequence", "occurred_at", "actor_id", "actor_role", "action", "object_ref"),
        AUDIT_PAGE_SIZE,
    ).get_page((form.cleaned_data.get("page") if form.is_valid() else None) or 1)
    names = form.staff_names  # the filter's list of users already holds them
    for event in rows:
        event.label = action_label(event.action)  # type: ignore[attr-defined]
        event.actor_name = actor_name(event.actor_id, names)  # type: ignore[attr-defined]
        event.role_label = role_label(event.actor_role)  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "web/audit_log.html",
        {"form": form, "rows": rows, "query_string": params.urlencode()},
    )


@page(Role.AUDITOR)
def audit_event(request: HttpRequest, sequence: int) -> HttpResponse:
    """One event as stored: its payload, its hash and the hash it chains to."""
    event = get_object_or_404(AuditEvent, sequence=sequence)
    names = staff_names([event.actor_id] if event.actor_id is not None else [])
    return render(
        request,
        "web/audit_event.html",
        {
            "event": event,
            "label": action_label(event.action),
            "actor": actor_name(event.actor_id, names),
            "role": role_label(event.actor_role),
            "payload": json.dumps(
                event.payload, indent=2, sort_keys=True, ensure_ascii=False, default=str
            ),
            "has_next": AuditEvent.objects.filter(sequence=sequence + 1).exists(),
        },
    )


@page(Role.AUDITOR)
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Verify the whole chain now and show the outcome (reads only)."""
    problem = ""
    outcome = None
    try:
        outcome = verify_chain()
    except VerificationNotPossible as error:
        problem = str(error)
    return render(request, "web/audit_verify.html", {"outcome": outcome, "problem": problem})


@page(Role.AUDITOR)
def audit_checkpoints(request: HttpRequest) -> HttpResponse:
    checkpoints = AuditCheckpoint.objects.order_by("-sequence").annotate(
        stamped=F("timestamp__gen_time")
    )[:200]
    key = signing.public_key()
    return render(
        request,
        "web/audit_checkpoints.html",
        {
            "checkpoints": checkpoints,
            "origin": signing.log_origin(),
            "fingerprint": signing.fingerprint(key) if key is not None else "",
            "every_events": settings.AUDIT_CHECKPOINT_EVERY_EVENTS,
            "every_minutes": settings.AUDIT_CHECKPOINT_EVERY_MINUTES,
            "mailed": bool(settings.AUDIT_CHECKPOINT_RECIPIENTS),
            "timestamped": bool(settings.AUDIT_TSA_URL),
            "separate_signer": settings.AUDIT_SIGNER.startswith("socket:"),
        },
    )


@page(Role.AUDITOR)
def audit_checkpoint_file(request: HttpRequest) -> HttpResponse:
    """The auditors' checkpoint file: every signed note and timestamp, and the log's key."""
    latest = AuditCheckpoint.objects.exclude(note="").order_by("-sequence").first()
    response = HttpResponse(auditors_file(), content_type="text/plain; charset=utf-8")
    name = f"checkpoints-{latest.sequence if latest else 0}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page(Role.AUDITOR)
def audit_export(request: HttpRequest, reference: str) -> HttpResponse:
    """One application's trail with the checkpoints, for the offline verifier."""
    if not Application.objects.filter(reference=reference).exists():
        raise Http404
    out = io.StringIO()
    export_trail(out, application=reference)
    response = HttpResponse(out.getvalue(), content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="trail-{reference}.jsonl"'
    return response


@page(Role.AUDITOR)
def audit_staff_directory(request: HttpRequest) -> HttpResponse:
    """The form; with a period, the signed list of user ids to names (recorded in the log)."""
    form = StaffDirectoryForm(request.GET or None)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        try:
            signed = staff_directory(start, end, actor=request.user)
        except ValidationFailed as refusal:
            for message in refusal.messages:
                form.add_error(None, message)
        else:
            response = HttpResponse(signed, content_type="text/plain; charset=utf-8")
            name = f"staff-directory-{start.isoformat()}-{end.isoformat()}.txt"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(request, "web/audit_staff_directory.html", {"form": form})
