"""Accounting exports (SIE 4 / 4I, ledger rows): start a job, follow it, fetch its file."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.exports import jobs
from accounting.models import ExportJob, ExportStatus
from api import serializers
from core.exceptions import PermissionDenied

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
