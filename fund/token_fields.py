"""Every place a personal value is kept encrypted, and whose data key encrypts it.

Key rotation, re-keying after a leaked master key, erasure and the raw-scan tests walk this
list instead of knowing each model: a new encrypted column is registered here once, and a
test (tests/fund/test_token_fields.py) fails when a model has an ``encrypted_*`` or
``wrapped_*`` column that is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyHolder:
    """A model whose rows carry their own data key (``wrapped_key``), wrapped by the master keys."""

    model: str  # "app_label.ModelName"
    field: str = "wrapped_key"


@dataclass(frozen=True)
class TokenField:
    """A column holding a Fernet token under some row's data key.

    ``key_path`` leads from the token's row to the key holder's row, in ORM lookup form
    (``"application__beneficiary"``); empty when the row holds its own key.
    """

    model: str
    field: str
    key_path: str = ""


KEY_HOLDERS: tuple[KeyHolder, ...] = (
    KeyHolder("fund.Beneficiary"),
    KeyHolder("accounting.Payee"),
)

TOKEN_FIELDS: tuple[TokenField, ...] = (
    TokenField("fund.Beneficiary", "encrypted_personal_data"),
    TokenField("fund.NeedItem", "encrypted_description", "application__beneficiary"),
    TokenField("workflows.CompletionRequest", "encrypted_message", "application__beneficiary"),
    TokenField("workflows.CompletionRequest", "encrypted_answer", "application__beneficiary"),
    TokenField("accounting.Payee", "encrypted_personal_data"),
    TokenField(
        "workflows.StatutoryAssessment",
        "encrypted_evidence_reference",
        "need_item__application__beneficiary",
    ),
    TokenField(
        "workflows.DecisionItem", "encrypted_reason_text", "need_item__application__beneficiary"
    ),
    TokenField("workflows.FollowUp", "encrypted_evidence_reference", "application__beneficiary"),
    TokenField("fund.PersonalDataReadReason", "encrypted_reason", "beneficiary"),
)


@dataclass(frozen=True)
class MasterWrapped:
    """A column holding a small secret wrapped by the master keys directly (no data key).

    Rotation and re-keying re-wrap it with the newest master key; the secret itself never
    changes (a bank file's nonce must give the same file again).
    """

    model: str
    field: str


MASTER_WRAPPED: tuple[MasterWrapped, ...] = (
    MasterWrapped("accounting.PaymentBatch", "wrapped_file_nonce"),
    # A known constant, so start-up can tell the configured master keys are the data's.
    MasterWrapped("fund.KeyCanary", "wrapped_marker"),
)


def personal_data_tables() -> list[str]:
    """Every table holding a data key, a token, a master-wrapped secret or a blind index:
    what erasure must compact (an old row version keeps what the UPDATE blanked)."""
    from django.apps import apps

    labels = (
        {holder.model for holder in KEY_HOLDERS}
        | {token.model for token in TOKEN_FIELDS}
        | {wrapped.model for wrapped in MASTER_WRAPPED}
    )
    return sorted(apps.get_model(label)._meta.db_table for label in labels)
