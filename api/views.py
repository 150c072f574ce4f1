"""REST endpoints under ``/api/v1/``: thin translations of requests into service calls.

Every case is looked up by its reference within the caller's scope (``api.selectors``), so a
case the caller may not see answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting import payouts
from accounting.exports import jobs
from accounting.models import (
    BatchStatus,
    ExportJob,
    ExportStatus,
    Payee,
    PaymentBatch,
    PaymentOrder,
)
from accounting.tasks import generate_payout_file
from api import selectors, serializers
from api.services import apply_for
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.models import Application, Beneficiary, NeedItem, Ombud, OmbudStatus
from fund.privacy import read_personal_data
from fund.references import APPLICATION_REFERENCE
from fund.states import State
from reminders.models import Reminder
from reminders.services import dismiss
from workflows import services, step_inputs
from workflows.decision_trail import decision_trail
from workflows.models import DecisionItem
from workflows.services import NeedInput

REF = OpenApiParameter(
    "reference",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=f"^{APPLICATION_REFERENCE.pattern}$",
)


SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,32}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,35}$")


def _application(request: Request, reference: str) -> Application:
    if not APPLICATION_REFERENCE.fullmatch(reference):
        raise Http404
    return get_object_or_404(selectors.visible_applications(request.user), reference=reference)


def _detail(application: Application) -> dict[str, Any]:
    fresh = selectors.with_details(Application.objects.filter(pk=application.pk)).get()
    return serializers.ApplicationSerializer(fresh).data


# --- applications ------------------------------------------------------------------------


@extend_schema(
    parameters=[
        OpenApiParameter("fund", OpenApiTypes.STR, description="Fund code."),
        OpenApiParameter("state", OpenApiTypes.STR, enum=State.values),
    ]
)
@method_decorator(sensitive_post_parameters(), name="dispatch")
class ApplicationList(generics.ListCreateAPIView):
    """Applications you may see, newest first; ombud create them with their need items."""

    serializer_class = serializers.ApplicationSerializer

    def get_queryset(self) -> QuerySet[Application]:
        queryset = selectors.visible_applications(self.request.user)
        params = self.request.query_params
        problems = {}
        if params.get("state"):
            if params["state"] not in State.values:
                problems["state"] = [_("Unknown state.")]
            queryset = queryset.filter(state=params["state"])
        if params.get("fund"):
            if not SLUG.match(params["fund"]):
                problems["fund"] = [_("Unknown fund.")]
            queryset = queryset.filter(fund__code=params["fund"])
        if problems:
            raise ValidationError(problems)
        return queryset

    @extend_schema(
        request=serializers.ApplicationCreateSerializer,
        responses={201: serializers.ApplicationSerializer},
    )
    @sensitive_variables()
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = serializers.ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        beneficiary = None
        if "beneficiary" in values:
            beneficiary = Beneficiary.objects.filter(
                reference=values["beneficiary"],
                applications__in=selectors.visible_applications(request.user),
            ).first()
            if beneficiary is None:
                raise ValidationError({"beneficiary": [_("No person with this reference.")]})
        ombud = None
        if "ombud" in values:
            ombud = Ombud.objects.filter(pk=values["ombud"]).first()
            if ombud is None:
                raise ValidationError({"ombud": [_("No such ombud.")]})
        application = apply_for(
            actor=request.user,
            fund=values["fund"],
            person=values.get("person"),
            beneficiary=beneficiary,
            ombud=ombud,
            items=[
                NeedInput(i["category"], i["amount"], i.get("description", ""))
                for i in values["items"]
            ],
        )
        return Response(_detail(application), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[REF])
class ApplicationDetail(generics.RetrieveAPIView):
    serializer_class = serializers.ApplicationSerializer

    def get_object(self) -> Application:
        return _application(self.request, self.kwargs["reference"])


@extend_schema(parameters=[REF])
class NeedItemList(generics.ListAPIView):
    serializer_class = serializers.NeedItemSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[NeedItem]:
        application = _application(self.request, self.kwargs["reference"])
        return application.items.select_related("statutory_assessment").order_by("position")


@extend_schema(
    parameters=[REF, OpenApiParameter("position", OpenApiTypes.INT, OpenApiParameter.PATH)],
    request=serializers.AssessmentInputSerializer,
    responses={200: serializers.NeedItemSerializer},
)
@method_decorator(sensitive_post_parameters(), name="dispatch")
class ItemAssessment(APIView):
    """Record the statutory obligation assessment of one need item (officer)."""

    @sensitive_variables()
    def post(self, request: Request, reference: str, position: int) -> Response:
        application = _application(request, reference)
        item = get_object_or_404(application.items.all(), position=position)
        data = serializers.AssessmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_statutory_assessment(item, actor=request.user, **data.validated_data)
        item = NeedItem.objects.select_related("statutory_assessment").get(pk=item.pk)
        return Response(serializers.NeedItemSerializer(item).data)


@extend_schema(parameters=[REF], responses={200: serializers.PersonSerializer})
@method_decorator(sensitive_post_parameters(), name="dispatch")
class ApplicationPerson(APIView):
    """The person's values, for those who need to know; every look is audit-logged."""

    @sensitive_variables()
    def get(self, request: Request, reference: str) -> Response:
        application = _application(request, reference)
        values = read_personal_data(
            application.beneficiary, actor=request.user, application=application, channel="api"
        )
        body = {
            "beneficiary": application.beneficiary.reference,
            "name": values.get("name", ""),
            "personal_number": values.get("personnummer", ""),
            "contact": values.get("contact", ""),
            "protected_identity": bool(values.get("protected_identity", False)),
            "region": application.beneficiary.region,
            # Need descriptions and evidence references are the person's data too
            # (encrypted under their key).
            "need_descriptions": [
                {
                    "position": item.position,
                    "description": item.description,
                    "evidence_reference": _evidence_of(item),
                }
                for item in application.items.select_related("statutory_assessment").order_by(
                    "position"
                )
            ],
        }
        return Response(serializers.PersonSerializer(body).data)


def _evidence_of(item: NeedItem) -> str:
    assessment = getattr(item, "statutory_assessment", None)
    return assessment.evidence_reference if assessment is not None else ""


# --- transitions ---------------------------------------------------------------------------


@extend_schema(parameters=[REF], responses={200: serializers.TransitionListSerializer})
class TransitionList(APIView):
    """The steps you may take on this case now."""

    def get(self, request: Request, reference: str) -> Response:
        application = _application(request, reference)
        body = {
            "reference": application.reference,
            "state": application.state,
            "transitions": services.available_transitions(application, actor=request.user),
        }
        return Response(serializers.TransitionListSerializer(body).data)


def _payee_id(reference: str) -> int:
    payee = Payee.objects.filter(reference=reference).only("pk").first()
    if payee is None:
        raise ValidationError({"payee": [_("No payee with this reference.")]})
    return payee.pk


def _step_data(application: Application, values: dict[str, Any]) -> dict[str, Any]:
    """The API's input (positions, references) as the services take it (ids)."""
    data = {k: v for k, v in values.items() if k not in ("items", "payee", "payees")}
    by_position = {item.position: item.pk for item in application.items.all()}

    def item_id(position: int, field: str) -> int:
        if position not in by_position:
            raise ValidationError({field: [_("No need item %(n)s.") % {"n": position}]})
        return by_position[position]

    if "items" in values:
        data["items"] = [
            {**entry, "item": item_id(entry["item"], "items")} for entry in values["items"]
        ]
    if "payee" in values:
        data["payee"] = _payee_id(values["payee"])
    if "payees" in values:
        data["payees"] = {
            item_id(e["item"], "payees"): _payee_id(e["payee"]) for e in values["payees"]
        }
    return data


@extend_schema(
    parameters=[
        REF,
        OpenApiParameter(
            "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=serializers.TRANSITION_NAMES
        ),
    ],
    request=serializers.TransitionInputSerializer,
    responses={200: serializers.ApplicationSerializer},
)
@method_decorator(sensitive_post_parameters(), name="dispatch")
class RunTransition(APIView):
    """Take a step: 403 without permission, 409 when the case changed meanwhile, 400 for input."""

    @sensitive_variables()
    def post(self, request: Request, reference: str, name: str) -> Response:
        application = _application(request, reference)
        data = serializers.TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = step_inputs.parse(name, _step_data(application, data.validated_data))
        services.transition(application, actor=request.user, step=step)
        return Response(_detail(application))


# --- decisions and trail ---------------------------------------------------------------


@extend_schema(parameters=[REF])
class DecisionList(generics.ListAPIView):
    serializer_class = serializers.DecisionSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        application = _application(self.request, self.kwargs["reference"])
        return application.decisions.prefetch_related(
            "signatures",
            Prefetch("items", queryset=DecisionItem.objects.select_related("need_item")),
        ).order_by("created_at", "pk")


@extend_schema(parameters=[REF], responses={200: serializers.TrailRowSerializer(many=True)})
class Trail(APIView):
    """The case's decision trail from the audit log."""

    def get(self, request: Request, reference: str) -> Response:
        application = _application(request, reference)
        rows = decision_trail(application)
        return Response(serializers.TrailRowSerializer(rows, many=True).data)


# --- payment batches -------------------------------------------------------------------

BATCH = OpenApiParameter("message_id", OpenApiTypes.STR, OpenApiParameter.PATH)


def _require_batch_reader(request: Request) -> None:
    if not selectors.may_see_batches(request.user):
        raise PermissionDenied(_("Only treasurers and auditors see payment batches."))


def _batches() -> QuerySet[PaymentBatch]:
    return selectors.payment_batches().prefetch_related(
        Prefetch(
            "orders",
            queryset=PaymentOrder.objects.select_related(
                "application", "need_item", "payee"
            ).order_by("pk"),
        )
    )


class PaymentBatchList(generics.ListCreateAPIView):
    """Payment batches (treasurers, auditors); a treasurer creates one from scheduled orders."""

    serializer_class = serializers.PaymentBatchSerializer

    def get_queryset(self) -> QuerySet[PaymentBatch]:
        _require_batch_reader(self.request)
        return _batches()

    @extend_schema(
        request=serializers.PaymentBatchCreateSerializer,
        responses={201: serializers.PaymentBatchSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = serializers.PaymentBatchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refs = data.validated_data.get("applications")
        applications = None
        if refs is not None:
            applications = list(Application.objects.filter(reference__in=refs))
            missing = sorted(set(refs) - {a.reference for a in applications})
            if missing:
                raise ValidationError({"applications": [_("Unknown: %s") % ", ".join(missing)]})
        batch = payouts.create_batch(
            request.user,
            applications=applications,
            execution_date=data.validated_data.get("execution_date"),
        )
        return Response(
            serializers.PaymentBatchSerializer(_batches().get(pk=batch.pk)).data,
            status=status.HTTP_201_CREATED,
        )


def _batch(request: Request, message_id: str) -> PaymentBatch:
    _require_batch_reader(request)
    if not MESSAGE_ID.match(message_id):
        raise Http404
    return get_object_or_404(_batches(), message_id=message_id)


@extend_schema(parameters=[BATCH])
class PaymentBatchDetail(generics.RetrieveAPIView):
    serializer_class = serializers.PaymentBatchSerializer

    def get_object(self) -> PaymentBatch:
        return _batch(self.request, self.kwargs["message_id"])


@extend_schema(
    parameters=[BATCH], request=None, responses={200: serializers.PaymentBatchSerializer}
)
class ApprovePaymentBatch(APIView):
    """A second treasurer approves the batch: not who created it, decided its cases,
    registered a payee it pays or scheduled one of its orders."""

    def post(self, request: Request, message_id: str) -> Response:
        batch = _batch(request, message_id)
        payouts.approve_batch(batch, request.user)
        return Response(serializers.PaymentBatchSerializer(_batches().get(pk=batch.pk)).data)


@extend_schema(parameters=[BATCH], request=None, responses={202: serializers.FileJobSerializer})
class PaymentBatchFile(APIView):
    """Have a worker write the approved batch's pain.001 file (see ``PAYOUT_FILES_DIR``)."""

    def post(self, request: Request, message_id: str) -> Response:
        batch = _batch(request, message_id)
        if not has_role(request.user, Role.TREASURER):
            raise PermissionDenied(_("Only a treasurer may handle payouts."))
        if batch.status not in (BatchStatus.APPROVED, BatchStatus.SENT):
            raise ValidationFailed(
                _("A batch is exported only after a second treasurer approved it.")
            )
        result = generate_payout_file.delay(batch.message_id, request.user.pk)
        body = {"message_id": batch.message_id, "task_id": result.id}
        return Response(serializers.FileJobSerializer(body).data, status=status.HTTP_202_ACCEPTED)


# --- accounting exports ------------------------------------------------------------------

JOB = OpenApiParameter("job_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _export_job(request: Request, job_id: uuid.UUID) -> ExportJob:
    if not jobs.may_export(actor=request.user):
        raise PermissionDenied(_("Only a treasurer or an administrator may start an export."))
    return get_object_or_404(ExportJob, pk=job_id)


@extend_schema(
    request=serializers.ExportJobRequestSerializer,
    responses={202: serializers.ExportJobSerializer},
)
class ExportJobList(APIView):
    """Start an accounting export (SIE 4 / 4I, ledger rows); a worker writes the file."""

    def post(self, request: Request) -> Response:
        jobs.job_role(actor=request.user)
        body = serializers.ExportJobRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        kind = values.pop("kind")
        job = jobs.start_export(actor=request.user, kind=kind, **values)
        return Response(
            serializers.ExportJobSerializer(ExportJob.objects.get(pk=job.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(parameters=[JOB], responses={200: serializers.ExportJobSerializer})
class ExportJobDetail(APIView):
    """An export job's status and progress (rows written of rows in range)."""

    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        return Response(serializers.ExportJobSerializer(_export_job(request, job_id)).data)


@extend_schema(parameters=[JOB], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
class ExportJobFile(APIView):
    """The finished export's file (404 until the job is done)."""

    def get(self, request: Request, job_id: uuid.UUID) -> FileResponse:
        job = _export_job(request, job_id)
        path = Path(job.file_path)
        if job.status != ExportStatus.DONE or not job.file_path or not path.is_file():
            raise Http404
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=jobs.download_name(job),
            content_type="application/octet-stream",
        )


# --- reminders ---------------------------------------------------------------------------


class ReminderList(generics.ListAPIView):
    """Your open reminders: cases waiting longer than their fund allows."""

    serializer_class = serializers.ReminderSerializer

    def get_queryset(self) -> QuerySet[Reminder]:
        return (
            Reminder.objects.filter(recipient=self.request.user, dismissed_at__isnull=True)
            # A revoked ombud's reminders name cases that are no longer theirs.
            .exclude(
                application__ombud__user=self.request.user,
                application__ombud__status=OmbudStatus.REVOKED,
            )
            .select_related("application")
        )


@extend_schema(
    parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    request=None,
    responses={200: serializers.ReminderSerializer},
)
class DismissReminder(APIView):
    def post(self, request: Request, id: int) -> Response:
        reminder = get_object_or_404(
            Reminder.objects.select_related("application"), pk=id, recipient=request.user
        )
        return Response(serializers.ReminderSerializer(dismiss(reminder, actor=request.user)).data)
