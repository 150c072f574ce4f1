"""What the API shows of payouts: batches' orders, payout file jobs, a bank file's import."""

from __future__ import annotations

from rest_framework import serializers

from accounting.bank_status import ENTRY_RESULTS
from accounting.models import ExportStatus, OrderStatus, PaymentOrder, PayoutFileJob
from api.money import MoneyField


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
