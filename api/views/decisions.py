"""A case's decisions (with signatures and items) and its decision trail from the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers
from api.views.common import REF, application_in_scope
from workflows.decision_trail import trail_events, trail_rows
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


@extend_schema(parameters=[REF])
class Trail(generics.ListAPIView):
    """The case's decision trail from the audit log, a page at a time; ``action`` is the
    event's stable code, ``action_label`` its label."""

    serializer_class = serializers.TrailRowSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = application_in_scope(request, self.kwargs["reference"])
        page = self.paginate_queryset(trail_events(application))
        rows = trail_rows(list(page or ()))
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
