"""Admin: the chart is edited by administrators; vouchers and batches are read-only.

Once used, the fields money depends on are read-only here and refused by the database.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting import reference_data
from accounting.models import (
    Account,
    Commitment,
    Dimension,
    DimensionObject,
    FiscalYear,
    FundAccountingSettings,
    FundBudget,
    Payee,
    PayeeKind,
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


class FixedOnceUsedAdmin(admin.ModelAdmin):
    """Fields the books depend on are read-only once used (the database refuses them too).

    Changes that remain are audited by ``accounting.reference_audit``.
    """

    fixed_once_used: tuple[str, ...] = ()

    def is_used(self, obj: Any) -> bool:
        raise NotImplementedError

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk is not None and self.is_used(obj):
            return fields + self.fixed_once_used
        return fields


@admin.register(Account)
class AccountAdmin(FixedOnceUsedAdmin):
    """A used account keeps its number and type; its name and ``active`` stay editable."""

    list_display = ("number", "name", "type", "active")
    list_filter = ("type", "active")
    search_fields = ("number", "name")
    fixed_once_used = ("number", "type")

    def is_used(self, obj: Any) -> bool:
        return reference_data.account_is_used(obj)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Dimension)
class DimensionAdmin(FixedOnceUsedAdmin):
    list_display = ("number", "name")
    fixed_once_used = ("number",)

    def is_used(self, obj: Any) -> bool:
        return reference_data.dimension_is_used(obj)


@admin.register(DimensionObject)
class DimensionObjectAdmin(FixedOnceUsedAdmin):
    """A used object keeps its dimension, code and fund; its name stays editable."""

    list_display = ("dimension", "code", "name", "fund")
    list_filter = ("dimension",)
    fixed_once_used = ("dimension", "code", "fund")

    def is_used(self, obj: Any) -> bool:
        return reference_data.dimension_object_is_used(obj)


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
    # A person's account is personal data: only its last digits, like the treasury page.
    exclude = ("encrypted_personal_data", "wrapped_key", "account", "clearing_number", "bic")
    readonly_fields = ("destination_shown",)

    @admin.display(description=gettext_lazy("account"))
    def destination_shown(self, payee: Payee) -> str:
        if payee.kind == PayeeKind.PERSON:
            if payee.is_erased:
                return _("Erased with the person.")
            return _("The person's own account, ending %(last)s") % {"last": payee.account_ending}
        clearing = f"{payee.clearing_number}-" if payee.clearing_number else ""
        bic = f" ({payee.bic})" if payee.bic else ""
        return f"{clearing}{payee.account}{bic}"


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
