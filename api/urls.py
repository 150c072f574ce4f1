"""``/api/v1/`` routes, the OpenAPI schema and its documentation page."""

from django.urls import path, re_path

from api import docs
from api.errors import UnknownRoute
from api.views import (
    applications,
    audit_log,
    books,
    decisions,
    exports,
    follow_up,
    need_items,
    payment_batches,
    payouts,
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
        payouts.PaymentBatchFile.as_view(),
        name="batch-file",
    ),
    # Payouts to the end (issue #20, part "payouts").
    path(
        "v1/payment-batches/<str:message_id>/orders/",
        payouts.PaymentBatchOrders.as_view(),
        name="batch-orders",
    ),
    path(
        "v1/payment-batches/<str:message_id>/sent/",
        payouts.MarkBatchSent.as_view(),
        name="batch-sent",
    ),
    path(
        "v1/payment-batches/<str:message_id>/cancel/",
        payouts.CancelBatch.as_view(),
        name="batch-cancel",
    ),
    path(
        "v1/payment-batches/<str:message_id>/void/",
        payouts.VoidBatchFile.as_view(),
        name="batch-void",
    ),
    path(
        "v1/payout-file-jobs/<uuid:job_id>/",
        payouts.PayoutFileJobDetail.as_view(),
        name="payout-file-job",
    ),
    path("v1/bank-files/", payouts.BankFileUpload.as_view(), name="bank-files"),
    path("v1/exports/", exports.ExportJobList.as_view(), name="exports"),
    path("v1/exports/<uuid:job_id>/", exports.ExportJobDetail.as_view(), name="export"),
    path("v1/exports/<uuid:job_id>/file/", exports.ExportJobFile.as_view(), name="export-file"),
    path("v1/reminders/", reminders.ReminderList.as_view(), name="reminders"),
    path(
        "v1/reminders/<int:id>/dismiss/",
        reminders.DismissReminder.as_view(),
        name="reminder-dismiss",
    ),
    # The books, read only (treasurers and auditors).
    path("v1/books/accounts/", books.AccountList.as_view(), name="books-accounts"),
    path("v1/books/vouchers/", books.VoucherList.as_view(), name="books-vouchers"),
    path("v1/books/trial-balance/", books.TrialBalance.as_view(), name="books-trial-balance"),
    path("v1/books/funds/", books.FundList.as_view(), name="books-funds"),
    # The audit log for auditors, and follow-up (issue #20, part "audit").
    path(
        "v1/applications/<str:reference>/follow-up/",
        follow_up.FollowUp.as_view(),
        name="follow-up",
    ),
    path("v1/audit/events/", audit_log.AuditEventList.as_view(), name="audit-events"),
    path(
        "v1/audit/events/<int:sequence>/",
        audit_log.AuditEventDetail.as_view(),
        name="audit-event",
    ),
    path(
        "v1/audit/checkpoints/",
        audit_log.AuditCheckpointList.as_view(),
        name="audit-checkpoints",
    ),
    path(
        "v1/audit/verification/",
        audit_log.Verification.as_view(),
        name="audit-verification",
    ),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
    # Last: anything else under /api/ is a JSON 404, also with DEBUG (which would show
    # Django's technical page instead of handler404).
    re_path(r"^.*$", UnknownRoute.as_view(), name="unknown"),
]
