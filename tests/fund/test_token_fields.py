"""The registry of encrypted columns (fund.token_fields) names every one of them."""

from __future__ import annotations

from django.apps import apps

from fund.token_fields import KEY_HOLDERS, MASTER_WRAPPED, TOKEN_FIELDS, personal_data_tables


def _model_columns() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    tokens: set[tuple[str, str]] = set()
    wrapped: set[tuple[str, str]] = set()
    for model in apps.get_models():
        label = model._meta.label
        for field in model._meta.concrete_fields:
            if field.name.startswith("encrypted_"):
                tokens.add((label, field.name))
            elif field.name.startswith("wrapped_"):
                wrapped.add((label, field.name))
    return tokens, wrapped


def test_every_encrypted_column_is_registered_so_rotation_and_erasure_reach_it() -> None:
    tokens, wrapped = _model_columns()
    assert tokens == {(t.model, t.field) for t in TOKEN_FIELDS}
    assert wrapped == {(k.model, k.field) for k in KEY_HOLDERS} | {
        (w.model, w.field) for w in MASTER_WRAPPED
    }


def test_every_master_wrapped_column_is_registered_and_compacted() -> None:
    """A ``wrapped_*`` column other than a data key is a secret under the master keys
    (a bank file's nonce): rotation and re-keying re-wrap it, compaction rewrites its table."""
    assert ("accounting.PaymentBatch", "wrapped_file_nonce") in {
        (w.model, w.field) for w in MASTER_WRAPPED
    }
    assert "accounting_paymentbatch" in personal_data_tables()


def test_every_registered_token_leads_to_a_key_holder() -> None:
    holders = {k.model for k in KEY_HOLDERS}
    for token in TOKEN_FIELDS:
        model = apps.get_model(token.model)
        for part in filter(None, token.key_path.split("__")):
            model = model._meta.get_field(part).related_model
        assert model._meta.label in holders, token
