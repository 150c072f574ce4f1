"""Admin for the registry: funds, organisations, ombud. Cases are handled in the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.exceptions import WorkflowError
from fund import services
from fund.models import (
    Application,
    Fund,
    Ombud,
    OmbudStatus,
    Organisation,
    ProtectedIdentityGrant,
)


@admin.register(Fund)
class FundAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "kind",
        "active",
        "max_per_application",
        "two_signature_threshold",
    )
    list_filter = ("kind", "active")
    filter_horizontal = ("handlers",)
    search_fields = ("name", "code")

    def get_readonly_fields(self, request: HttpRequest, obj: Fund | None = None) -> Any:
        """The accounting object is fixed once it has postings, the restricted-funds account
        once a posting on it carries the fund's object (the database refuses both too):
        changing either would leave the fund's booked money under another code or account."""
        fields = tuple(super().get_readonly_fields(request, obj))
        # The accounting app's object for this fund, through its reverse accessor: the
        # registry does not import the ledger.
        accounting_object = getattr(obj, "dimension_object", None) if obj is not None else None
        if obj is None or accounting_object is None:
            return fields
        postings = accounting_object.fund_postings
        if postings.filter(account__number=obj.restricted_funds_account).exists():
            return (*fields, "accounting_dimension", "restricted_funds_account")
        if postings.exists():
            return (*fields, "accounting_dimension")
        return fields


def _run(request: HttpRequest, queryset: QuerySet[Any], action: Any) -> None:
    done = 0
    for obj in queryset:
        try:
            action(obj)
            done += 1
        except WorkflowError as exc:
            messages.error(request, f"{obj}: {exc}")
    if done:
        messages.success(request, _("%(n)s updated.") % {"n": done})


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "org_number", "kind", "verified_at")
    list_filter = ("kind",)
    search_fields = ("name", "org_number")
    readonly_fields = ("verified_at", "verified_by", "verification_method")
    actions = ["mark_verified"]

    @admin.action(description=_("Mark verified (after a call to the public switchboard)"))
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[Organisation]) -> None:
        _run(
            request,
            queryset,
            lambda org: services.verify_organisation(
                org,
                actor=request.user,
                method="Call to the switchboard number in the public register",
            ),
        )


@admin.register(Ombud)
class OmbudAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organisation", "status", "verified_at")
    list_filter = ("status",)
    search_fields = ("user__username", "organisation__name")
    readonly_fields = ("status", "verified_at", "verified_by", "verification_method")
    actions = ["mark_verified", "revoke"]

    @admin.action(description=_("Mark verified (called back via the organisation)"))
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[Ombud]) -> None:
        _run(
            request,
            queryset,
            lambda ombud: services.set_ombud_status(
                ombud,
                actor=request.user,
                status=OmbudStatus.VERIFIED,
                method="Called back via the organisation's switchboard",
            ),
        )

    @admin.action(description=_("Revoke"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Ombud]) -> None:
        _run(
            request,
            queryset,
            lambda ombud: services.set_ombud_status(
                ombud, actor=request.user, status=OmbudStatus.REVOKED
            ),
        )


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read-only overview: references and states, never the person's data."""

    list_display = ("reference", "fund", "state", "submitted_at", "decided_at")
    list_filter = ("fund", "state")
    search_fields = ("reference",)
    fields = ("reference", "fund", "state", "ombud", "assigned_officer", "prepared_by")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProtectedIdentityGrant)
class ProtectedIdentityGrantAdmin(admin.ModelAdmin):
    """Read only: a grant is given and revoked by a decision-maker on the application page,
    through :mod:`fund.protected_access`, so that nobody grants themselves and each is logged."""

    list_display = ("application", "grantee", "reason", "granted_by", "granted_at", "revoked_at")
    list_filter = ("reason",)
    search_fields = ("application__reference",)
    fields = (
        "application",
        "grantee",
        "reason",
        "granted_by",
        "granted_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
