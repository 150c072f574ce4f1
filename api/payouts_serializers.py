"""What the API shows of payouts: batches' orders, payout file jobs, a bank file's import."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from moneyed import Money
from rest_framework import serializers

from accounting.bank_status import ENTRY_RESULTS
from accounting.models import ExportStatus, OrderStatus, PaymentOrder, PayoutFileJob
from fund.money import CURRENCY

ORE = Decimal("0.01")


@extend_schema_field(
    {
        "type": "object",
        "title": "Money",
        "properties": {
            "amount": {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "1500.00"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "example": "SEK"},
        },
        "required": ["amount", "currency"],
    },
    component_name="PayoutMoney",
)
class MoneyField(serializers.Field):
    """``{"amount": "1500.00", "currency": "SEK"}``; the same as ``api.money.MoneyField``
    (part "books" of issue #20), which replaces it when the branches meet."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Money | Decimal | None) -> dict[str, str]:
        if isinstance(value, Money):
            amount, currency = value.amount, str(value.currency)
        else:
            amount, currency = Decimal(value or 0), CURRENCY
        return {"amount": str(amount.quantize(ORE, rounding=ROUND_HALF_UP)), "currency": currency}


class PaymentOrderSerializer(serializers.ModelSerializer):
    order = serializers.SerializerMethodField()
    application = serializers.CharField(source="application.reference", read_only=True)
    item = serializers.IntegerField(source="need_item.position", read_only=True)
    payee = serializers.CharField(source="payee.reference", read_only=True)
    amount = MoneyField()
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)

    class Meta:
        model = PaymentOrder
        fields = ["order", "application", "item", "payee", "amount", "status", "failure_reason"]
        read_only_fields = fields

    def get_order(self, order: PaymentOrder) -> str:
        return f"PO-{order.pk}"


class PayoutFileJobStartedSerializer(serializers.Serializer):
    job = serializers.UUIDField(source="pk")
    message_id = serializers.CharField(source="batch.message_id")
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    task_id = serializers.CharField(source="pk", help_text="The worker's task id (the job's id).")


class PayoutFileJobSerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(source="batch.message_id", read_only=True)
    status = serializers.ChoiceField(choices=ExportStatus.choices, read_only=True)
    sha256 = serializers.CharField(
        read_only=True, help_text="The file's SHA-256 (hex) once done; empty before."
    )
    error_message = serializers.CharField(
        read_only=True, help_text="Why the job failed, for people (empty unless it failed)."
    )

    class Meta:
        model = PayoutFileJob
        fields = [
            "id",
            "message_id",
            "status",
            "sha256",
            "error_message",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class BankFileEntrySerializer(serializers.Serializer):
    order = serializers.CharField(help_text="PO-<id>, or the bank's reference when not ours.")
    result = serializers.ChoiceField(choices=[(r, r) for r in ENTRY_RESULTS])
    code = serializers.CharField(allow_blank=True, help_text="The bank's ISO 20022 code, or ''.")
    reason = serializers.CharField(help_text="What the import did, for people.")


class BankFileResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("pain.002", "pain.002"), ("camt.054", "camt.054")])
    message_id = serializers.CharField(source="batch.message_id", allow_null=True, default=None)
    sha256 = serializers.CharField()
    paid = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    entries = BankFileEntrySerializer(many=True)
