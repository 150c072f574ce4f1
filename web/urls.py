"""The web application's pages (namespace ``web``); tests/web/test_permissions.py holds a rule
for every one of them."""

from django.urls import path

from web.views import (
    audit,
    auth,
    bank_files,
    case_access,
    cases,
    cofinancing,
    dashboard,
    exports,
    ombud,
    ombud_edit,
    treasury,
    worklist_filters,
)

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("no-role/", auth.no_role, name="no_role"),
    # officers and decision-makers
    path("worklist/", cases.worklist_view, name="worklist"),
    path("worklist/bulk/", cases.bulk_view, name="worklist_bulk"),
    path("worklist/filters/", worklist_filters.save_filter_view, name="worklist_filter_save"),
    path(
        "worklist/filters/delete/",
        worklist_filters.delete_filter_view,
        name="worklist_filter_delete",
    ),
    path("applications/<str:reference>/", cases.application_view, name="application"),
    path("applications/<str:reference>/person/", cases.person_view, name="application_person"),
    path(
        "applications/<str:reference>/steps/<str:name>/",
        cases.transition_view,
        name="application_transition",
    ),
    path(
        "applications/<str:reference>/assessment/",
        cases.assess_view,
        name="application_assess",
    ),
    path(
        "applications/<str:reference>/decision/",
        cases.decide_view,
        name="application_decide",
    ),
    path(
        "applications/<str:reference>/follow-up/",
        cases.follow_up_view,
        name="application_follow_up",
    ),
    path(
        "applications/<str:reference>/access/grant/",
        case_access.grant_access_view,
        name="application_grant_access",
    ),
    path(
        "applications/<str:reference>/access/revoke/",
        case_access.revoke_access_view,
        name="application_revoke_access",
    ),
    path(
        "applications/<str:reference>/ombud/",
        case_access.reassign_ombud_view,
        name="application_reassign_ombud",
    ),
    # ombud
    path("ombud/", ombud.ombud_home, name="ombud_home"),
    path("ombud/new/", ombud.new_application, name="ombud_new"),
    path("ombud/check/", ombud_edit.check_items, name="ombud_check"),
    path(
        "ombud/applications/<str:reference>/edit/",
        ombud_edit.edit_application_view,
        name="ombud_edit",
    ),
    # treasurers
    path("treasury/", treasury.treasury, name="treasury"),
    path("treasury/payees/<int:pk>/approve/", treasury.approve_payee, name="payee_approve"),
    path("treasury/batches/new/", treasury.create_batch, name="batch_create"),
    path("treasury/batches/<int:pk>/", treasury.batch_view, name="batch"),
    path("treasury/batches/<int:pk>/file/", treasury.batch_file, name="batch_file"),
    path("treasury/batches/<int:pk>/<str:action>/", treasury.batch_action, name="batch_action"),
    path("treasury/bank-files/", bank_files.bank_file_upload, name="bank_file_upload"),
    path("treasury/exceptions/resolve/", treasury.resolve_exception, name="bank_exception_resolve"),
    path("treasury/schedule/", treasury.schedule_payouts, name="schedule_payouts"),
    path(
        "treasury/periods/<int:pk>/<str:step>/",
        treasury.period_close_step,
        name="period_close_step",
    ),
    path("treasury/year-end/", treasury.year_end_view, name="year_end"),
    path("treasury/year-end/<str:step>/", treasury.year_end_step, name="year_end_step"),
    path("treasury/cofinancing/", cofinancing.cofinancing_view, name="cofinancing"),
    path("treasury/cofinancing/report/", cofinancing.cofinancing_report, name="cofinancing_report"),
    path(
        "treasury/cofinancing/book/<str:action>/",
        cofinancing.cofinancing_action,
        name="cofinancing_action",
    ),
    path("treasury/exports/", exports.exports, name="exports"),
    path("treasury/exports/<uuid:pk>/", exports.export_job, name="export_job"),
    path(
        "treasury/exports/<uuid:pk>/progress/",
        exports.export_job_progress,
        name="export_job_progress",
    ),
    path("treasury/exports/<uuid:pk>/file/", exports.export_job_file, name="export_job_file"),
    # auditors (read only)
    path("audit/", audit.audit_home, name="audit_home"),
    path("audit/log/", audit.audit_log, name="audit_log"),
    path("audit/log/<int:sequence>/", audit.audit_event, name="audit_event"),
    path("audit/verify/", audit.audit_verify, name="audit_verify"),
    path("audit/checkpoints/", audit.audit_checkpoints, name="audit_checkpoints"),
    path("audit/checkpoints/file/", audit.audit_checkpoint_file, name="audit_checkpoint_file"),
    path("audit/trails/<str:reference>/", audit.audit_export, name="audit_export"),
    path("audit/staff/", audit.audit_staff_directory, name="audit_staff_directory"),
    # everyone on staff
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
