"""What the API shows and accepts. Beneficiaries appear by reference only; a person's values
are read through ``fund.privacy`` by one endpoint, which logs the look."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounting.models import (
    BatchStatus,
    ExportJob,
    ExportKind,
    ExportStatus,
    PaymentBatch,
)
from api.money import MoneyField, money_object
from api.strict import StrictSerializer
from fund.models import Application, Fund, NeedCategory, NeedItem
from fund.states import State
from reminders.models import Reminder, ReminderKind
from workflows.models import (
    AttestationMethod,
    Authority,
    Decision,
    DecisionItem,
    DecisionOutcome,
    DecisionStatus,
    FollowUpOutcome,
    LegalBasis,
    Obligation,
    ReasonCode,
    StatutoryAssessment,
)
from workflows.services import HANDLERS
from workflows.services.base import REFERENCE_TEXT_MAX

#: Transition names, for the schema's enum.
TRANSITION_NAMES = sorted(HANDLERS)


class AssessmentSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Obligation.choices, read_only=True)
    authority = serializers.CharField(read_only=True)
    legal_basis = serializers.CharField(read_only=True)
    #: The reference itself is the person's data (under their key): read through the case's
    #: person endpoint, where the look is logged.
    evidence_given = serializers.SerializerMethodField()
    grantable_amount = MoneyField()
    assessed_at = serializers.DateTimeField(read_only=True)

    def get_evidence_given(self, assessment: StatutoryAssessment) -> bool:
        return bool(assessment.encrypted_evidence_reference)


class NeedItemSerializer(serializers.ModelSerializer):
    requested_amount = MoneyField()
    approved_amount = MoneyField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=NeedItem.Outcome.choices, allow_blank=True, read_only=True
    )
    statutory_assessment = serializers.SerializerMethodField()

    class Meta:
        model = NeedItem
        fields = [
            "position",
            "category",
            "requested_amount",
            "approved_amount",
            "outcome",
            "statutory_assessment",
        ]
        read_only_fields = fields

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_statutory_assessment(self, item: NeedItem) -> dict[str, Any] | None:
        assessment = getattr(item, "statutory_assessment", None)
        return AssessmentSerializer(assessment).data if assessment is not None else None


class ApplicationSerializer(serializers.ModelSerializer):
    fund = serializers.CharField(source="fund.code", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    state = serializers.ChoiceField(choices=State.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    beneficiary = serializers.CharField(source="beneficiary.reference", read_only=True)
    organisation = serializers.CharField(source="ombud.organisation.name", read_only=True)
    assigned_officer = serializers.CharField(
        source="assigned_officer.username", read_only=True, allow_null=True
    )
    total_requested = serializers.SerializerMethodField()
    total_approved = serializers.SerializerMethodField()
    items = NeedItemSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = [
            "reference",
            "fund",
            "fund_name",
            "state",
            "state_label",
            "beneficiary",
            "organisation",
            "assigned_officer",
            "created_at",
            "submitted_at",
            "state_changed_at",
            "decided_at",
            "total_requested",
            "total_approved",
            "items",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_total_requested(self, app: Application) -> dict[str, str]:
        return money_object(sum((i.requested_amount.amount for i in app.items.all()), Decimal(0)))

    @extend_schema_field(MoneyField(allow_null=True))
    def get_total_approved(self, app: Application) -> dict[str, str] | None:
        approved = [i.approved_amount.amount for i in app.items.all() if i.approved_amount]
        return money_object(sum(approved, Decimal(0))) if approved else None


class PersonInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    personal_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    protected_identity = serializers.BooleanField(required=False, default=False)
    region = serializers.CharField(max_length=2, required=False, allow_blank=True)


class NeedItemInputSerializer(StrictSerializer):
    category = serializers.ChoiceField(choices=NeedCategory.choices)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), coerce_to_string=True
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class FundField(serializers.SlugRelatedField):
    """A fund by code; anything not shaped like a code is refused before the database."""

    def to_internal_value(self, data: Any) -> Fund:
        if not isinstance(data, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,32}", data):
            self.fail("invalid")
        return super().to_internal_value(data)


class ApplicationCreateSerializer(StrictSerializer):
    """A new person (``person``) or one already on a case you see (``beneficiary``)."""

    fund = FundField(slug_field="code", queryset=Fund.objects.all())
    person = PersonInputSerializer(required=False)
    beneficiary = serializers.RegexField(r"^B-\d{4}-\d{6}$", required=False)
    ombud = serializers.IntegerField(
        required=False, min_value=1, help_text="For officers: the ombud who applies."
    )
    items = NeedItemInputSerializer(many=True, allow_empty=False, max_length=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("person" in attrs) == ("beneficiary" in attrs):
            raise serializers.ValidationError(
                "Give either a new person or an existing person's reference."
            )
        return attrs


class TransitionSerializer(StrictSerializer):
    name = serializers.ChoiceField(choices=TRANSITION_NAMES)


class TransitionListSerializer(serializers.Serializer):
    reference = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    transitions = serializers.ListField(child=serializers.ChoiceField(choices=TRANSITION_NAMES))


class DecidedItemInputSerializer(StrictSerializer):
    item = serializers.IntegerField(min_value=1, help_text="The need item's position.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    reason = serializers.ChoiceField(choices=ReasonCode.choices, required=False)


class PayeeChoiceInputSerializer(StrictSerializer):
    item = serializers.IntegerField(min_value=1, help_text="The need item's position.")
    payee = serializers.RegexField(r"^P-\d{4}-\d{6}$")


class TransitionInputSerializer(StrictSerializer):
    """What the steps take; each step reads only its own fields."""

    method = serializers.ChoiceField(choices=AttestationMethod.choices, required=False)
    need_confirmed = serializers.BooleanField(required=False)
    reason = serializers.CharField(max_length=32, required=False, help_text="A reason code.")
    message = serializers.CharField(
        max_length=2000, required=False, help_text="Komplettering: what the ombud must add."
    )
    items = DecidedItemInputSerializer(many=True, required=False, max_length=50)
    payee = serializers.RegexField(r"^P-\d{4}-\d{6}$", required=False)
    payees = PayeeChoiceInputSerializer(many=True, required=False, max_length=50)
    decision = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Co-signing (approve, approve_partly, reject without items): the id of the "
        "decision awaiting a signature that you read (…/decisions/). Required then; a decision "
        "changed since is refused.",
    )


class AssessmentInputSerializer(StrictSerializer):
    outcome = serializers.ChoiceField(choices=Obligation.choices)
    authority = serializers.ChoiceField(choices=Authority.choices, required=False, allow_blank=True)
    legal_basis = serializers.ChoiceField(
        choices=LegalBasis.choices,
        required=False,
        allow_blank=True,
        help_text="A legal-basis code (e.g. sol_4_1), never free text.",
        error_messages={"invalid_choice": _("Choose the legal basis from the list of codes.")},
    )
    evidence_reference = serializers.CharField(max_length=120, required=False, allow_blank=True)
    grantable_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )


class NeedDescriptionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)
    evidence_reference = serializers.CharField(
        allow_blank=True, help_text="The statutory assessment's evidence reference, if any."
    )


class PersonSerializer(serializers.Serializer):
    """The person's values and the case's free texts: only here, and every read is logged."""

    beneficiary = serializers.CharField()
    name = serializers.CharField()
    personal_number = serializers.CharField(allow_blank=True)
    contact = serializers.CharField(allow_blank=True)
    protected_identity = serializers.BooleanField()
    region = serializers.CharField(allow_blank=True)
    need_descriptions = NeedDescriptionSerializer(many=True)


class DecisionItemSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="need_item.position", read_only=True)
    amount = MoneyField()

    class Meta:
        model = DecisionItem
        fields = ["item", "outcome", "amount", "reason"]
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer):
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices, read_only=True)
    status = serializers.ChoiceField(choices=DecisionStatus.choices, read_only=True)
    total_approved = MoneyField()
    signatures = serializers.IntegerField(source="signatures.count", read_only=True)
    items = DecisionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "outcome",
            "status",
            "reason",
            "total_approved",
            "required_signatures",
            "signatures",
            "reconsiders",
            "created_at",
            "effective_at",
            "items",
        ]
        read_only_fields = fields


class TrailRowSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField()
    role = serializers.CharField(allow_blank=True)
    #: The recorded action's stable code (``application.approve``); the label beside it.
    action = serializers.CharField(source="code")
    action_label = serializers.CharField(source="action")
    summary = serializers.CharField(allow_blank=True)


class PaymentBatchSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=BatchStatus.choices, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    approved_by = serializers.CharField(
        source="approved_by.username", read_only=True, allow_null=True
    )
    order_count = serializers.IntegerField(read_only=True)
    #: One currency: payment orders are in SEK only (``fund.money.money_field``).
    total = serializers.SerializerMethodField()

    class Meta:
        model = PaymentBatch
        fields = [
            "message_id",
            "status",
            "execution_date",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "exported_at",
            "file_sha256",
            "sent_at",
            "order_count",
            "total",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_total(self, batch: PaymentBatch) -> dict[str, str]:
        """A batch whose orders were all freed (cancelled) totals 0.00, not null."""
        return money_object(getattr(batch, "order_total", None) or Decimal(0))


class PaymentBatchCreateSerializer(StrictSerializer):
    applications = serializers.ListField(
        child=serializers.RegexField(r"^A-\d{4}-\d{6}$"), required=False, max_length=500
    )
    execution_date = serializers.DateField(required=False)


class ReminderSerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="application.reference", read_only=True)
    kind = serializers.ChoiceField(choices=ReminderKind.choices, read_only=True)

    class Meta:
        model = Reminder
        fields = ["id", "application", "kind", "waiting_since", "days", "created_at"]
        read_only_fields = fields


class ExportJobRequestSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text="Fiscal year (SIE only)."
    )
    date_from = serializers.DateField(required=False, allow_null=True)
    date_to = serializers.DateField(required=False, allow_null=True)


class ExportJobSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=ExportStatus.choices, read_only=True)
    params = serializers.DictField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    error_message = serializers.CharField(
        read_only=True, help_text="Why the job failed, for people (empty unless it failed)."
    )
    file_ready = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "rows_done",
            "rows_total",
            "percent",
            "error",
            "error_message",
            "file_ready",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_file_ready(self, job: ExportJob) -> bool:
        return job.status == ExportStatus.DONE


class FollowUpInputSerializer(StrictSerializer):
    """How the support was used; the evidence reference is kept under the person's key."""

    outcome = serializers.ChoiceField(choices=FollowUpOutcome.choices)
    evidence_reference = serializers.CharField(
        required=False, allow_blank=True, max_length=REFERENCE_TEXT_MAX
    )
