"""What the audit log's endpoints show and accept, and the follow-up's input.

An event is shown as stored (its machine code, ids, payload and both hashes), so an
integrator can recompute the chain; the label is the one the auditor's pages show.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.strict import StrictQuerySerializer
from audit.models import AuditCheckpoint, AuditEvent
from workflows.decision_trail import action_label


class AuditEventSerializer(serializers.ModelSerializer):
    #: The stable machine code (``application.approve``), what an integrator matches on.
    action = serializers.CharField()
    action_label = serializers.SerializerMethodField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    role = serializers.CharField(source="actor_role", allow_blank=True)
    payload = serializers.JSONField()

    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "occurred_at",
            "action",
            "action_label",
            "actor",
            "role",
            "object_type",
            "object_ref",
            "payload",
            "hash",
            "prev_hash",
        ]
        read_only_fields = fields

    def get_action_label(self, event: AuditEvent) -> str:
        return action_label(event.action)


class AuditEventFilterSerializer(StrictQuerySerializer):
    """The event list's query: each filter exact, ``after`` a sequence (exclusive)."""

    action = serializers.CharField(
        required=False, max_length=80, help_text="The event's code, exactly."
    )
    object_type = serializers.CharField(required=False, max_length=40)
    object_ref = serializers.CharField(required=False, max_length=64)
    after = serializers.IntegerField(
        required=False, min_value=0, help_text="Only events after this sequence."
    )
    actor = serializers.IntegerField(required=False, min_value=1, help_text="The acting user's id.")


class AuditCheckpointSerializer(serializers.ModelSerializer):
    """A checkpoint with what an auditor needs to check it against their own copy."""

    timestamped = serializers.SerializerMethodField()
    timestamped_at = serializers.DateTimeField(source="stamped", allow_null=True)

    class Meta:
        model = AuditCheckpoint
        fields = [
            "sequence",
            "hash",
            "root_hash",
            "created_at",
            "note",
            "signature",
            "key_fingerprint",
            "timestamped",
            "timestamped_at",
        ]
        read_only_fields = fields

    def get_timestamped(self, checkpoint: Any) -> bool:
        return checkpoint.stamped is not None


class VerificationSerializer(serializers.Serializer):
    """A verification run: ``ok`` and ``checked`` (the events checked) are null before the
    first one (and ``checked`` for runs recorded before it was kept). ``problems`` name the
    first broken entry, in the verifier's words."""

    ok = serializers.BooleanField(allow_null=True)
    checked = serializers.IntegerField(allow_null=True)
    ran_at = serializers.DateTimeField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
    #: What does not break the chain but deserves a look (e.g. the log was re-keyed).
    warnings = serializers.ListField(child=serializers.CharField())
