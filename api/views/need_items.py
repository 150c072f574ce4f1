"""A case's need items and the statutory obligation assessment of each."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.views.common import REF, application_in_scope
from fund.models import NeedItem
from workflows import services


@extend_schema(parameters=[REF])
class NeedItemList(generics.ListAPIView):
    serializer_class = serializers.NeedItemSerializer

    def get_queryset(self) -> QuerySet[NeedItem]:
        application = application_in_scope(self.request, self.kwargs["reference"])
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
        application = application_in_scope(request, reference)
        item = get_object_or_404(application.items.all(), position=position)
        data = serializers.AssessmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_statutory_assessment(item, actor=request.user, **data.validated_data)
        item = NeedItem.objects.select_related("statutory_assessment").get(pk=item.pk)
        return Response(serializers.NeedItemSerializer(item).data)
