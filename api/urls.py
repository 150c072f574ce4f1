"""``/api/v1/`` routes, the OpenAPI schema and its documentation page."""

from django.urls import path, re_path

from api import docs
from api.errors import UnknownRoute
from api.views import (
    applications,
    decisions,
    exports,
    need_items,
    payment_batches,
    person,
    reminders,
    transitions,
)

app_name = "api"

urlpatterns = [
    path("v1/applications/", applications.ApplicationList.as_view(), name="applications"),
    path(
        "v1/applications/<str:reference>/",
        applications.ApplicationDetail.as_view(),
        name="application",
    ),
    path("v1/applications/<str:reference>/items/", need_items.NeedItemList.as_view(), name="items"),
    path(
        "v1/applications/<str:reference>/items/<int:position>/assessment/",
        need_items.ItemAssessment.as_view(),
        name="assessment",
    ),
    path(
        "v1/applications/<str:reference>/person/", person.ApplicationPerson.as_view(), name="person"
    ),
    path(
        "v1/applications/<str:reference>/transitions/",
        transitions.TransitionList.as_view(),
        name="transitions",
    ),
    path(
        "v1/applications/<str:reference>/transitions/<str:name>/",
        transitions.RunTransition.as_view(),
        name="transition",
    ),
    path(
        "v1/applications/<str:reference>/decisions/",
        decisions.DecisionList.as_view(),
        name="decisions",
    ),
    path("v1/applications/<str:reference>/trail/", decisions.Trail.as_view(), name="trail"),
    path("v1/payment-batches/", payment_batches.PaymentBatchList.as_view(), name="batches"),
    path(
        "v1/payment-batches/<str:message_id>/",
        payment_batches.PaymentBatchDetail.as_view(),
        name="batch",
    ),
    path(
        "v1/payment-batches/<str:message_id>/approve/",
        payment_batches.ApprovePaymentBatch.as_view(),
        name="batch-approve",
    ),
    path(
        "v1/payment-batches/<str:message_id>/file/",
        payment_batches.PaymentBatchFile.as_view(),
        name="batch-file",
    ),
    path("v1/exports/", exports.ExportJobList.as_view(), name="exports"),
    path("v1/exports/<uuid:job_id>/", exports.ExportJobDetail.as_view(), name="export"),
    path("v1/exports/<uuid:job_id>/file/", exports.ExportJobFile.as_view(), name="export-file"),
    path("v1/reminders/", reminders.ReminderList.as_view(), name="reminders"),
    path(
        "v1/reminders/<int:id>/dismiss/",
        reminders.DismissReminder.as_view(),
        name="reminder-dismiss",
    ),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
    # Last: anything else under /api/ is a JSON 404, also with DEBUG (which would show
    # Django's technical page instead of handler404).
    re_path(r"^.*$", UnknownRoute.as_view(), name="unknown"),
]
