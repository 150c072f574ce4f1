"""Lookups and schema parameters the resource modules share."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from api import selectors, serializers
from fund.models import Application
from fund.references import APPLICATION_REFERENCE

REF = OpenApiParameter(
    "reference",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=f"^{APPLICATION_REFERENCE.pattern}$",
)


def application_in_scope(request: Request, reference: str) -> Application:
    """The case by reference, or 404 when it does not exist *or* the caller may not see it."""
    if not APPLICATION_REFERENCE.fullmatch(reference):
        raise Http404
    return get_object_or_404(selectors.visible_applications(request.user), reference=reference)


def application_detail(application: Application) -> dict[str, Any]:
    """The case as the API shows it after a write, read afresh (the write changed it)."""
    fresh = selectors.with_details(Application.objects.filter(pk=application.pk)).get()
    return serializers.ApplicationSerializer(fresh).data
