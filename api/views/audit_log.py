"""The audit log for auditors: its events as stored, its checkpoints, and its verification.

Auditors only, as the auditor's pages (``web.views.audit``): every other role answers 403.
Everything here reads, except ``POST …/verification/``, which verifies the whole chain now
with the service the scheduled task and ``manage.py audit_verify`` use, and records the run.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit_serializers import (
    AuditCheckpointSerializer,
    AuditEventFilterSerializer,
    AuditEventSerializer,
    VerificationSerializer,
)
from api.errors import ErrorSerializer
from audit.checkpoints import last_verification_run
from audit.models import AuditCheckpoint, AuditEvent
from audit.verification import VerificationNotPossible, VerifiedRecently, verify_on_demand
from core.exceptions import PermissionDenied
from core.roles import Role, has_role

EVENT_FIELDS = (
    "sequence",
    "occurred_at",
    "action",
    "actor_id",
    "actor_role",
    "object_type",
    "object_ref",
    "payload",
    "hash",
    "prev_hash",
)


class VerificationUnavailable(exceptions.APIException):
    """Signed checkpoints exist but the server has no public key to check them with."""

    status_code = 503
    default_code = "verification_not_possible"
    default_detail = gettext_lazy(
        "The audit log cannot be verified: signed checkpoints exist but the server has no "
        "public key to check them with. Ask the operator to restore the audit public key."
    )


class AuditorOnly(APIView):
    """Signed in (401 otherwise) and an auditor (403 otherwise), before anything is read."""

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if not has_role(request.user, Role.AUDITOR):
            raise PermissionDenied(_("Only auditors read the audit log."))


@extend_schema(parameters=[AuditEventFilterSerializer])
class AuditEventList(AuditorOnly, generics.ListAPIView):
    """The log's events by sequence, ascending; page through with ``after`` or ``page``."""

    serializer_class = AuditEventSerializer
    query_serializer = AuditEventFilterSerializer

    def get_queryset(self) -> QuerySet[AuditEvent]:
        query = AuditEventFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        wanted: dict[str, Any] = query.validated_data
        events = AuditEvent.objects.only(*EVENT_FIELDS).order_by("sequence")
        for name in ("action", "object_type", "object_ref"):
            if name in wanted:
                events = events.filter(**{name: wanted[name]})
        if "after" in wanted:
            events = events.filter(sequence__gt=wanted["after"])
        if "actor" in wanted:
            events = events.filter(actor_id=wanted["actor"])
        return events


@extend_schema(parameters=[OpenApiParameter("sequence", OpenApiTypes.INT, OpenApiParameter.PATH)])
class AuditEventDetail(AuditorOnly, generics.RetrieveAPIView):
    serializer_class = AuditEventSerializer

    def get_object(self) -> AuditEvent:
        return get_object_or_404(AuditEvent.objects.only(*EVENT_FIELDS), **self.kwargs)


class AuditCheckpointList(AuditorOnly, generics.ListAPIView):
    """The signed checkpoints by sequence, ascending, each with whether a timestamp
    authority stamped it (the token itself is in the auditors' checkpoint file)."""

    serializer_class = AuditCheckpointSerializer

    def get_queryset(self) -> QuerySet[AuditCheckpoint]:
        return (
            AuditCheckpoint.objects.defer("frontier")
            .annotate(stamped=F("timestamp__gen_time"))
            .order_by("sequence")
        )


class Verification(AuditorOnly):
    """The chain's verification: the latest run (GET), or one run now (POST)."""

    @extend_schema(responses={200: VerificationSerializer})
    def get(self, request: Request) -> Response:
        run = last_verification_run()
        if run is None:
            body: dict[str, Any] = {"ok": None, "checked": None, "ran_at": None, "problems": []}
        else:
            problems = [] if run.ok else [run.summary]
            body = {
                "ok": run.ok,
                "checked": run.checked,
                "ran_at": run.ran_at,
                "problems": problems,
            }
        body["warnings"] = []
        return Response(VerificationSerializer(body).data)

    @extend_schema(request=None, responses={200: VerificationSerializer, 503: ErrorSerializer})
    def post(self, request: Request) -> Response:
        try:
            outcome = verify_on_demand()
        except VerificationNotPossible as error:
            raise VerificationUnavailable() from error
        except VerifiedRecently as recently:
            raise exceptions.Throttled(
                wait=recently.wait,
                detail=_(
                    "The chain was verified less than a minute ago: its result is at GET "
                    "/api/v1/audit/verification/. A new run may start in %(wait)s seconds."
                )
                % {"wait": recently.wait},
            ) from recently
        run = last_verification_run()
        problems = [outcome.broken.line()] if outcome.broken is not None else []
        body = {
            "ok": outcome.ok,
            "checked": outcome.entries,
            "ran_at": run.ran_at if run is not None else None,
            "problems": problems,
            "warnings": list(outcome.warnings),
        }
        return Response(VerificationSerializer(body).data)
