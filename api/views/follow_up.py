"""Follow-up after payment: how the support was used, which a fund may require before a
case is closed (the ``close`` transition then closes it)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.views.common import REF, application_detail, application_in_scope
from workflows.services import record_follow_up


@extend_schema(
    parameters=[REF],
    request=serializers.FollowUpInputSerializer,
    responses={201: serializers.ApplicationSerializer},
)
@method_decorator(sensitive_post_parameters(), name="dispatch")
class FollowUp(APIView):
    """An officer of the fund records the follow-up of a paid case (its evidence reference
    is kept under the person's key)."""

    @sensitive_variables()
    def post(self, request: Request, reference: str) -> Response:
        application = application_in_scope(request, reference)
        data = serializers.FollowUpInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record_follow_up(
            application,
            actor=request.user,
            outcome=data.validated_data["outcome"],
            evidence_reference=data.validated_data.get("evidence_reference", ""),
        )
        return Response(application_detail(application), status=status.HTTP_201_CREATED)
