"""Payouts to the end: the batch's file (a worker's job, then its download), sent / cancel /
void, the batch's orders, and the bank's answer (pain.002, camt.054) uploaded as it came.

The rules stay in the services (``accounting.payouts``, ``accounting.bank_status``); these
views only translate. A pain.001 file holds account numbers: only treasurers download it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, parsers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting import bank_status
from accounting.models import PaymentBatch, PaymentOrder, PayoutFileJob
from accounting.payouts import batches
from accounting.payouts.access import require_treasurer
from accounting.payouts.file_jobs import request_payout_file
from api import payouts_serializers, serializers
from api.errors import ErrorSerializer
from api.views.payment_batches import BATCH, _batch, _batches, _require_batch_reader

JOB = OpenApiParameter("job_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class FileNotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "file_not_ready"
    default_detail = gettext_lazy(
        "This batch's file has not been made yet: ask for it (POST) and wait until its job is done."
    )


def _batch_answer(batch: PaymentBatch) -> Response:
    return Response(serializers.PaymentBatchSerializer(_batches().get(pk=batch.pk)).data)


@extend_schema(parameters=[BATCH])
class PaymentBatchFile(APIView):
    """The approved batch's pain.001 file: a worker makes it (POST), then it downloads (GET)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The file is XML whatever the client accepts; refusals are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        request=None,
        responses={202: payouts_serializers.PayoutFileJobStartedSerializer},
        description="Queue the file's export; while a job is queued or running, that job.",
    )
    def post(self, request: Request, message_id: str) -> Response:
        job = request_payout_file(_batch(request, message_id), actor=request.user)
        body = payouts_serializers.PayoutFileJobStartedSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The pain.001 file; headers X-Content-SHA256 and X-Message-Id.",
            ),
            409: ErrorSerializer,
        },
        description="The exported file (the same bytes every time); 409 before it was made.",
    )
    def get(self, request: Request, message_id: str) -> HttpResponse:
        batch = _batch(request, message_id)
        require_treasurer(actor=request.user)
        if batch.exported_at is None:
            raise FileNotReady  # a GET never makes the first export: POST asks a worker
        content = batches.export_batch(batch, actor=request.user)
        response = HttpResponse(content, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
        response["X-Content-SHA256"] = batch.file_sha256
        response["X-Message-Id"] = batch.message_id
        return response


@extend_schema(parameters=[JOB], responses={200: payouts_serializers.PayoutFileJobSerializer})
class PayoutFileJobDetail(APIView):
    """A payout file job: queued, running, done (with the file's SHA-256) or failed (why)."""

    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        _require_batch_reader(request)
        job = get_object_or_404(PayoutFileJob.objects.select_related("batch"), pk=job_id)
        return Response(payouts_serializers.PayoutFileJobSerializer(job).data)


@extend_schema(
    parameters=[BATCH], request=None, responses={200: serializers.PaymentBatchSerializer}
)
class MarkBatchSent(APIView):
    """The exported file went to the bank."""

    def post(self, request: Request, message_id: str) -> Response:
        batch = batches.mark_sent(_batch(request, message_id), actor=request.user)
        return _batch_answer(batch)


@extend_schema(
    parameters=[BATCH], request=None, responses={200: serializers.PaymentBatchSerializer}
)
class CancelBatch(APIView):
    """Undo a batch whose file was never exported; its orders may be batched again."""

    def post(self, request: Request, message_id: str) -> Response:
        batch = batches.cancel_batch(_batch(request, message_id), actor=request.user)
        return _batch_answer(batch)


@extend_schema(
    parameters=[BATCH], request=None, responses={200: serializers.PaymentBatchSerializer}
)
class VoidBatchFile(APIView):
    """A second treasurer declares that the bank did not receive the exported file."""

    def post(self, request: Request, message_id: str) -> Response:
        batch = batches.void_batch_file(_batch(request, message_id), actor=request.user)
        return _batch_answer(batch)


@extend_schema(parameters=[BATCH])
class PaymentBatchOrders(generics.ListAPIView):
    """The batch's payment orders, by page."""

    serializer_class = payouts_serializers.PaymentOrderSerializer

    def get_queryset(self) -> QuerySet[PaymentOrder]:
        batch = _batch(self.request, self.kwargs["message_id"])
        return batch.orders.select_related("application", "need_item", "payee").order_by("pk")


class BankFileParser(parsers.BaseParser):
    """The body as it came, whatever its type: the importer decides what it is, and refuses
    anything that is not a bank file in its own words. Read up to ``UPLOAD_MAX_BYTES`` and
    one byte more, so the importer can name a file that is too large."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> bytes:
        if stream is None:
            return b""
        return bytes(stream.read(int(settings.UPLOAD_MAX_BYTES) + 1))


class BankFileUpload(APIView):
    """Import the bank's answer to a payout file: a pain.002 status report or a camt.054
    debit notification, sent as the raw XML. A file with any problem books nothing."""

    parser_classes = [BankFileParser]

    @extend_schema(
        request={"application/xml": OpenApiTypes.BINARY},
        responses={200: payouts_serializers.BankFileResultSerializer},
    )
    def post(self, request: Request) -> Response:
        require_treasurer(actor=request.user)  # before the body is read
        content = request.data if isinstance(request.data, bytes) else b""
        report = bank_status.import_bank_file(content, actor=request.user)
        return Response(payouts_serializers.BankFileResultSerializer(report).data)
