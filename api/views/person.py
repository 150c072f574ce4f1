"""The person behind a case: personal values on request, each look audit-logged."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.views.common import REF, application_in_scope
from fund.models import NeedItem
from fund.privacy import read_personal_data


@extend_schema(parameters=[REF], responses={200: serializers.PersonSerializer})
@method_decorator(sensitive_post_parameters(), name="dispatch")
class ApplicationPerson(APIView):
    """The person's values, for those who need to know; every look is audit-logged."""

    @sensitive_variables()
    def get(self, request: Request, reference: str) -> Response:
        application = application_in_scope(request, reference)
        values = read_personal_data(
            application.beneficiary,
            actor=request.user,
            application=application,
            channel="api",
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
