"""Money as the API answers it: ``{"amount": "1500.00", "currency": "SEK"}``.

A bare number would leave an integrator to guess the currency (and a float to lose öre), so
every amount leaves the API as this object; inputs stay plain decimal strings in SEK.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from moneyed import Money
from rest_framework import serializers

from fund.money import CURRENCY

ORE = Decimal("0.01")

#: The OpenAPI component of a money object.
MONEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {
            "type": "string",
            "pattern": r"^-?\d+\.\d{2}$",
            "description": "Decimal amount with two decimals, '-' for a negative amount.",
            "example": "1500.00",
        },
        "currency": {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 currency code.",
            "example": "SEK",
        },
    },
    "required": ["amount", "currency"],
}


def money_object(value: Money | Decimal, currency: str = CURRENCY) -> dict[str, str]:
    """A Money (its own currency) or a Decimal (in ``currency``) as the API writes it."""
    if isinstance(value, Money):
        amount, currency = value.amount, str(value.currency)
    else:
        amount = Decimal(value)
    text = str(amount.quantize(ORE, rounding=ROUND_HALF_UP))
    return {"amount": "0.00" if text == "-0.00" else text, "currency": currency}


@extend_schema_field(
    {**MONEY_SCHEMA, "title": "Money"},
    component_name="Money",
)
class MoneyField(serializers.Field):
    """A read-only money object; ``None`` stays ``null`` (declare ``allow_null=True``)."""

    def __init__(self, *, currency: str = CURRENCY, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        self.currency = currency
        super().__init__(**kwargs)

    def to_representation(self, value: Money | Decimal) -> dict[str, str]:
        return money_object(value, self.currency)
