"""Applications: the list in the caller's scope, creating one (ombud) and one case."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors, serializers
from api.services import apply_for
from api.views.common import REF, application_detail, application_in_scope
from fund.models import Application, Beneficiary
from fund.states import State
from workflows.services import NeedInput

SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,32}$")


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
    query_fields = ("state", "fund")

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
        application = apply_for(
            actor=request.user,
            fund=values["fund"],
            person=values.get("person"),
            beneficiary=beneficiary,
            ombud_id=values.get("ombud"),
            items=[
                NeedInput(i["category"], i["amount"], i.get("description", ""))
                for i in values["items"]
            ],
        )
        return Response(application_detail(application), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[REF])
class ApplicationDetail(generics.RetrieveAPIView):
    serializer_class = serializers.ApplicationSerializer

    def get_object(self) -> Application:
        return application_in_scope(self.request, self.kwargs["reference"])
