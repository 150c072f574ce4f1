"""The caller's open reminders, and dismissing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from fund.models import OmbudStatus
from reminders.models import Reminder
from reminders.services import dismiss


class ReminderList(generics.ListAPIView):
    """Your open reminders: cases waiting longer than their fund allows."""

    serializer_class = serializers.ReminderSerializer

    def get_queryset(self) -> QuerySet[Reminder]:
        return (
            Reminder.objects.filter(recipient=self.request.user, dismissed_at__isnull=True)
            # A revoked ombud's reminders name cases that are no longer theirs.
            .exclude(
                application__ombud__user=self.request.user,
                application__ombud__status=OmbudStatus.REVOKED,
            )
            .select_related("application")
        )


@extend_schema(
    parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    request=None,
    responses={200: serializers.ReminderSerializer},
)
class DismissReminder(APIView):
    def post(self, request: Request, id: int) -> Response:
        reminder = get_object_or_404(
            Reminder.objects.select_related("application"), pk=id, recipient=request.user
        )
        return Response(serializers.ReminderSerializer(dismiss(reminder, actor=request.user)).data)
