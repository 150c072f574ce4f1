"""django-import-export resources for what users export from the admin.

The known pitfall: django-import-export picks a ``DecimalWidget`` for a django-money
``MoneyField``; its ``render`` gets a ``Money``, not a ``Decimal``, and writes an empty cell.
:class:`MoneyWidget` renders ``value.amount`` (öre, ``.`` decimal point) and reads an
amount back as SEK ``Money``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from moneyed import Money

from accounting.models import Posting
from fund.money import CURRENCY, parse_decimal, quantize


class MoneyWidget(widgets.Widget):
    """A MoneyField cell: the amount only (the currency has its own column)."""

    def __init__(self, currency: str = CURRENCY, **kwargs: Any) -> None:
        self.currency = currency
        super().__init__(**kwargs)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Money | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Money):
            return value
        try:
            amount = parse_decimal(value, field=_("Amount"))
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from exc
        return Money(amount, self.currency)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return ""
        amount = value.amount if isinstance(value, Money) else Decimal(str(value))
        amount = quantize(amount)
        # Spreadsheets get a number; text formats get "1234.50".
        return amount if kwargs.get("force_native_type") else f"{amount:.2f}"


class PostingResource(resources.ModelResource):
    """Posting rows as the admin exports them: no personal data, amounts in öre."""

    voucher = fields.Field(attribute="voucher__label", column_name="voucher", readonly=True)
    date = fields.Field(
        attribute="voucher__date", column_name="date", widget=widgets.DateWidget("%Y-%m-%d")
    )
    account = fields.Field(attribute="account__number", column_name="account")
    amount = fields.Field(attribute="amount", column_name="amount", widget=MoneyWidget())
    currency = fields.Field(attribute="amount_currency", column_name="currency")
    cost_centre = fields.Field(attribute="cost_centre__code", column_name="cost_centre")
    project = fields.Field(attribute="project__code", column_name="project")
    fund = fields.Field(attribute="fund_object__code", column_name="fund")

    class Meta:
        model = Posting
        fields = (
            "voucher",
            "date",
            "account",
            "amount",
            "currency",
            "cost_centre",
            "project",
            "fund",
        )
        export_order = fields

    def get_queryset(self) -> Any:
        return Posting.objects.select_related(
            "voucher__fiscal_year", "account", "cost_centre", "project", "fund_object"
        ).order_by("voucher__date", "voucher__series", "voucher__number", "id")
