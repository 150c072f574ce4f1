"""A case's decisions (with signatures and items) and its decision trail from the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.views.common import REF, application_in_scope
from workflows.decision_trail import decision_trail
from workflows.models import DecisionItem


@extend_schema(parameters=[REF])
class DecisionList(generics.ListAPIView):
    serializer_class = serializers.DecisionSerializer

    def get_queryset(self) -> QuerySet[Any]:
        application = application_in_scope(self.request, self.kwargs["reference"])
        return application.decisions.prefetch_related(
            "signatures",
            Prefetch("items", queryset=DecisionItem.objects.select_related("need_item")),
        ).order_by("created_at", "pk")


@extend_schema(parameters=[REF], responses={200: serializers.TrailRowSerializer(many=True)})
class Trail(APIView):
    """The case's decision trail from the audit log."""

    def get(self, request: Request, reference: str) -> Response:
        application = application_in_scope(request, reference)
        rows = decision_trail(application)
        return Response(serializers.TrailRowSerializer(rows, many=True).data)
