"""Admin: the chart is edited by administrators; vouchers and batches are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from accounting.models import (
    Account,
    Commitment,
    Dimension,
    DimensionObject,
    FiscalYear,
    FundAccountingSettings,
    FundBudget,
    Payee,
    PaymentBatch,
    PaymentOrder,
    Period,
    Posting,
    Voucher,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Changes go through the services (and the database refuses edits anyway)."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "type", "active")
    list_filter = ("type", "active")
    search_fields = ("number", "name")

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Dimension)
class DimensionAdmin(admin.ModelAdmin):
    list_display = ("number", "name")


@admin.register(DimensionObject)
class DimensionObjectAdmin(admin.ModelAdmin):
    list_display = ("dimension", "code", "name", "fund")
    list_filter = ("dimension",)


@admin.register(FiscalYear)
class FiscalYearAdmin(ReadOnlyAdmin):
    list_display = ("start", "end")


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdmin):
    list_display = ("start", "end", "closed_at", "closed_by")
    list_filter = ("fiscal_year",)


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "amount", "fund_object", "project", "cost_centre")
    readonly_fields = fields


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    list_display = ("label", "date", "text", "reverses")
    list_filter = ("fiscal_year", "series")
    search_fields = ("text",)
    inlines = [PostingInline]


@admin.register(FundAccountingSettings)
class FundAccountingSettingsAdmin(ReadOnlyAdmin):
    list_display = ("fund", "ceiling")


@admin.register(FundBudget)
class FundBudgetAdmin(ReadOnlyAdmin):
    list_display = ("fund", "fiscal_year", "amount")


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ("need_item", "fund", "amount", "status", "created_at")
    list_filter = ("status", "fund")


@admin.register(Payee)
class PayeeAdmin(ReadOnlyAdmin):
    list_display = ("reference", "kind", "name", "method", "active", "registered_by", "approved_by")
    list_filter = ("kind", "method", "active")
    exclude = ("encrypted_personal_data", "wrapped_key")


class PaymentOrderInline(ReadOnlyInline):
    model = PaymentOrder
    fields = ("remittance", "payee", "amount", "status", "failure_code", "voucher")
    readonly_fields = fields


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "status", "execution_date", "created_by", "approved_by")
    list_filter = ("status",)
    inlines = [PaymentOrderInline]


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdmin):
    list_display = ("pk", "remittance", "payee", "amount", "status", "batch", "scheduled_by")
    list_filter = ("status",)
