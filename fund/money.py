"""Money rules shared by every app: SEK, öre precision, never negative where it matters."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from djmoney.models.fields import MoneyField
from moneyed import Money

from core.inputs import shown

CURRENCY = "SEK"
ORE = Decimal("0.01")


def money_field(verbose_name: Any, **kwargs: Any) -> MoneyField:
    """A SEK MoneyField with room for a foundation's totals."""
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    return MoneyField(
        verbose_name,
        default_currency=CURRENCY,
        currency_choices=[(CURRENCY, CURRENCY)],
        **kwargs,
    )


def quantize(amount: Decimal) -> Decimal:
    """Round to öre, half up, so SQLite and PostgreSQL store the same value."""
    return amount.quantize(ORE, rounding=ROUND_HALF_UP)


def sek(amount: Decimal | int | str) -> Money:
    return Money(quantize(Decimal(amount)), CURRENCY)


#: The largest amount a money field holds (14 digits, 2 of them öre).
MAX_AMOUNT = Decimal("999999999999.99")


def parse_decimal(value: Any, *, field: str) -> Decimal:
    """An amount as written (``1 250,50``, ``1250.5``, a number): finite, at most two
    decimals and within what a money field holds; negative amounts pass (see below)."""
    try:
        # Any space groups thousands: format_money writes U+00A0, so a copied amount reads back.
        amount = Decimal("".join(str(value).split()).replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(
            _("%(field)s: “%(value)s” is not an amount.") % {"field": field, "value": shown(value)}
        ) from exc
    if not amount.is_finite():
        raise ValidationError(_("%(field)s: not an amount.") % {"field": field})
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(
            _("%(field)s: the amount is larger than %(max)s, the most an amount can be.")
            % {"field": field, "max": format_money(MAX_AMOUNT)}
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(ORE):
        raise ValidationError(
            _("%(field)s: at most two decimals (öre) are allowed.") % {"field": field}
        )
    return quantize(amount)


def parse_amount(value: Any, *, field: str, allow_zero: bool = False) -> Money:
    """Validate an amount at the edge: SEK only, at most two decimals, not negative."""
    currency = CURRENCY
    if isinstance(value, Money):
        currency = str(value.currency)
        raw: Any = value.amount
    else:
        raw = value
    if currency != CURRENCY:
        raise ValidationError(
            _("%(field)s: only SEK is accepted, not %(currency)s.")
            % {"field": field, "currency": currency}
        )
    amount = parse_decimal(raw, field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(
            _("%(field)s: the amount must be greater than zero.") % {"field": field}
        )
    return Money(amount, CURRENCY)


def format_money(value: Money | Decimal) -> str:
    """Amounts as people read them: ``1 250,50 kr`` in Swedish, ``SEK 1,250.50`` in English."""
    from django.utils.translation import get_language

    amount = quantize(value.amount if isinstance(value, Money) else Decimal(value))
    if (get_language() or "sv").startswith("sv"):
        text = f"{amount:,.2f}".replace(",", "\u00a0").replace(".", ",")
        return f"{text}\u00a0kr"
    return f"SEK {amount:,.2f}"
