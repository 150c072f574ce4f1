"""Master-key rotation and re-keying after a leak reach every wrapped key in the registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.management import call_command

from audit.models import AuditEvent
from fund import privacy
from fund.crypto import DecryptionFailed, reset_key_cache
from fund.token_fields import KEY_HOLDERS
from tests.fund.encrypted_rows import (
    build_every_encrypted_row,
    master_wrapped_values,
    missing_token_fields,
    read_every_master_wrapped,
    read_every_token,
    wrapped_keys,
)


@pytest.fixture
def master_keys(settings) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """An old and a new master key; the data is written under the old one."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    reset_key_cache()
    yield old, new
    settings.FIELD_ENCRYPTION_KEYS = []
    reset_key_cache()


def _use_keys(settings, *keys: str) -> None:  # type: ignore[no-untyped-def]
    settings.FIELD_ENCRYPTION_KEYS = list(keys)
    reset_key_cache()


def test_rotation_covers_every_wrapped_key_so_the_old_master_key_can_be_removed(
    world, settings, master_keys
):
    old, new = master_keys
    build_every_encrypted_row(world)
    assert missing_token_fields() == [], "add a row of each registered column to the builder"
    before = read_every_token()
    secrets_before = read_every_master_wrapped()
    holders = wrapped_keys()
    assert {model for model, _ in holders} == {h.model for h in KEY_HOLDERS}

    _use_keys(settings, new, old)
    assert privacy.rotate_master_keys(batch_size=1) == len(holders)
    _use_keys(settings, new)

    assert read_every_token() == before
    assert read_every_master_wrapped() == secrets_before  # re-wrapped, never changed
    event = AuditEvent.objects.get(action="keys.rotated")
    assert event.payload["keys"] == len(holders)
    assert sum(event.payload["master_wrapped"].values()) == len(secrets_before)
    _use_keys(settings, old)
    with pytest.raises(DecryptionFailed):
        read_every_token()
    with pytest.raises(DecryptionFailed):
        read_every_master_wrapped()


def test_rekey_after_a_leak_gives_every_holder_a_new_data_key_the_leaked_key_cannot_open(
    world, settings, master_keys
):
    leaked, new = master_keys
    build_every_encrypted_row(world)
    assert missing_token_fields() == [], "add a row of each registered column to the builder"
    before = read_every_token()
    secrets_before = read_every_master_wrapped()
    backup = wrapped_keys()  # what a stolen backup holds next to the leaked master key
    old_data_keys = {
        ref: MultiFernet([Fernet(leaked)]).decrypt(w.encode()) for ref, w in backup.items()
    }

    _use_keys(settings, new, leaked)
    counts = privacy.rekey_after_leak(batch_size=1)
    _use_keys(settings, new)

    assert counts["keys"] == len(backup)
    assert counts["tokens"] == len(before)
    assert read_every_token() == before
    after = wrapped_keys()
    assert after.keys() == backup.keys()
    for ref, wrapped in after.items():
        new_data_key = MultiFernet([Fernet(new)]).decrypt(wrapped.encode())
        assert new_data_key != old_data_keys[ref], ref
    # The leaked master key opens the backup's data keys, but they open no token any more.
    tokens_now = _tokens_by_holder()
    for ref, old_data_key in old_data_keys.items():
        for token in tokens_now.get(ref, []):
            with pytest.raises(InvalidToken):
                Fernet(old_data_key).decrypt(token.encode())
    # The master-wrapped secrets keep their value under the new master key only.
    assert read_every_master_wrapped() == secrets_before
    for wrapped in master_wrapped_values().values():
        with pytest.raises(InvalidToken):
            Fernet(leaked).decrypt(wrapped.encode())
    event = AuditEvent.objects.get(action="keys.rekeyed")
    assert event.payload == {
        "keys": len(backup),
        "tokens": len(before),
        "master_wrapped": len(secrets_before),
    }


def _tokens_by_holder() -> dict[tuple[str, int], list[str]]:
    from django.apps import apps

    from fund.token_fields import TOKEN_FIELDS

    found: dict[tuple[str, int], list[str]] = {}
    for token in TOKEN_FIELDS:
        model = apps.get_model(token.model)
        holder_model = model
        for part in filter(None, token.key_path.split("__")):
            holder_model = holder_model._meta.get_field(part).related_model
        holder_pk = f"{token.key_path}__pk" if token.key_path else "pk"
        for value, pk in model.objects.exclude(**{token.field: ""}).values_list(
            token.field, holder_pk
        ):
            found.setdefault((holder_model._meta.label, pk), []).append(value)
    return found


def test_the_rotate_and_rekey_commands_say_what_they_did(world, settings, master_keys, capsys):
    old, new = master_keys
    build_every_encrypted_row(world)
    count = len(wrapped_keys())
    _use_keys(settings, new, old)
    call_command("rotate_keys")
    assert f"Re-wrapped {count} data keys" in capsys.readouterr().out
    call_command("rekey_data")
    out = capsys.readouterr().out
    assert f"{count} new data keys" in out and "remove the leaked master key" in out
    _use_keys(settings, new)
    assert read_every_token()
