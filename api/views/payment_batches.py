"""Payment batches: read by treasurers and auditors, created, approved and exported by
treasurers (a second one approves)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.models import PaymentBatch
from accounting.payouts import batches
from accounting.selectors import batches_with_figures
from api import selectors, serializers
from core.exceptions import PermissionDenied
from fund.models import Application

BATCH = OpenApiParameter("message_id", OpenApiTypes.STR, OpenApiParameter.PATH)
MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,35}$")


def _require_batch_reader(request: Request) -> None:
    if not selectors.may_see_batches(request.user):
        raise PermissionDenied(_("Only treasurers and auditors see payment batches."))


def _batches() -> QuerySet[PaymentBatch]:
    """Batches with their orders counted and summed in the same query (no orders embedded:
    they are listed at ``…/orders/``)."""
    return batches_with_figures(selectors.payment_batches())


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
        batch = batches.create_batch(
            actor=request.user,
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
        batches.approve_batch(batch, actor=request.user)
        return Response(serializers.PaymentBatchSerializer(_batches().get(pk=batch.pk)).data)
