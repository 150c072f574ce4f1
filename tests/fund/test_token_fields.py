"""The registry of encrypted columns (fund.token_fields) names every one of them."""

from __future__ import annotations

from django.apps import apps

from fund.token_fields import KEY_HOLDERS, TOKEN_FIELDS


def _model_columns() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    tokens: set[tuple[str, str]] = set()
    keys: set[tuple[str, str]] = set()
    for model in apps.get_models():
        label = model._meta.label
        for field in model._meta.concrete_fields:
            if field.name.startswith("encrypted_"):
                tokens.add((label, field.name))
            elif field.name == "wrapped_key":
                keys.add((label, field.name))
    return tokens, keys


def test_every_encrypted_column_is_registered_so_rotation_and_erasure_reach_it() -> None:
    tokens, keys = _model_columns()
    assert tokens == {(t.model, t.field) for t in TOKEN_FIELDS}
    assert keys == {(k.model, k.field) for k in KEY_HOLDERS}


def test_every_registered_token_leads_to_a_key_holder() -> None:
    holders = {k.model for k in KEY_HOLDERS}
    for token in TOKEN_FIELDS:
        model = apps.get_model(token.model)
        for part in filter(None, token.key_path.split("__")):
            model = model._meta.get_field(part).related_model
        assert model._meta.label in holders, token
