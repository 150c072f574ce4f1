"""``/api/v1/`` routes, the OpenAPI schema and its documentation page."""

from django.urls import path

from api import docs, views

app_name = "api"

urlpatterns = [
    path("v1/applications/", views.ApplicationList.as_view(), name="applications"),
    path("v1/applications/<str:reference>/", views.ApplicationDetail.as_view(), name="application"),
    path("v1/applications/<str:reference>/items/", views.NeedItemList.as_view(), name="items"),
    path(
        "v1/applications/<str:reference>/items/<int:position>/assessment/",
        views.ItemAssessment.as_view(),
        name="assessment",
    ),
    path(
        "v1/applications/<str:reference>/person/", views.ApplicationPerson.as_view(), name="person"
    ),
    path(
        "v1/applications/<str:reference>/transitions/",
        views.TransitionList.as_view(),
        name="transitions",
    ),
    path(
        "v1/applications/<str:reference>/transitions/<str:name>/",
        views.RunTransition.as_view(),
        name="transition",
    ),
    path(
        "v1/applications/<str:reference>/decisions/", views.DecisionList.as_view(), name="decisions"
    ),
    path("v1/applications/<str:reference>/trail/", views.Trail.as_view(), name="trail"),
    path("v1/payment-batches/", views.PaymentBatchList.as_view(), name="batches"),
    path("v1/payment-batches/<str:message_id>/", views.PaymentBatchDetail.as_view(), name="batch"),
    path(
        "v1/payment-batches/<str:message_id>/approve/",
        views.ApprovePaymentBatch.as_view(),
        name="batch-approve",
    ),
    path(
        "v1/payment-batches/<str:message_id>/file/",
        views.PaymentBatchFile.as_view(),
        name="batch-file",
    ),
    path("v1/exports/", views.ExportJobList.as_view(), name="exports"),
    path("v1/exports/<uuid:job_id>/", views.ExportJobDetail.as_view(), name="export"),
    path("v1/exports/<uuid:job_id>/file/", views.ExportJobFile.as_view(), name="export-file"),
    path("v1/reminders/", views.ReminderList.as_view(), name="reminders"),
    path(
        "v1/reminders/<int:id>/dismiss/", views.DismissReminder.as_view(), name="reminder-dismiss"
    ),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
]
