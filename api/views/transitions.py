"""The steps a caller may take on a case, and taking one (through ``transition()``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.models import Payee
from api import serializers
from api.strict import refuse_fields_of_other_steps
from api.views.common import REF, application_detail, application_in_scope
from fund.models import Application
from workflows import services, step_inputs


@extend_schema(parameters=[REF], responses={200: serializers.TransitionListSerializer})
class TransitionList(APIView):
    """The steps you may take on this case now."""

    def get(self, request: Request, reference: str) -> Response:
        application = application_in_scope(request, reference)
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


def refuse_what_a_co_signature_would_drop(values: dict[str, Any]) -> None:
    """Naming a decision co-signs it as it was made: amounts or a reason sent with it would
    be dropped without a word, so they are refused by name."""
    if "decision" in values:
        given = [key for key in ("items", "reason") if key in values]
        if given:
            message = _("A co-signature signs the decision as it was made; leave this out.")
            raise ValidationError({key: [message] for key in given})


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
        application = application_in_scope(request, reference)
        data = serializers.TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refuse_fields_of_other_steps(name, request.data)
        refuse_what_a_co_signature_would_drop(data.validated_data)
        step = step_inputs.parse(name, _step_data(application, data.validated_data))
        if isinstance(step, step_inputs.Decide):
            # Through the API a co-signer always names the decision they read.
            step = replace(step, signature_named_only=True)
        services.transition(application, actor=request.user, step=step)
        return Response(application_detail(application))
