"""Master-key rotation and re-keying after a leak reach every wrapped key in the registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounting.models import Payee
from accounting.payees import create_payee
from audit.models import AuditEvent
from core.crypto import DecryptionFailed, decrypt_json, reset_key_cache
from fund import privacy
from fund.key_management import RowsSkipped
from fund.models import Beneficiary, NeedItem
from fund.token_fields import KEY_HOLDERS, TOKEN_FIELDS
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
        "skipped": [],
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


# --- One unreadable row is skipped and reported; the rest is finished (second review M3) ------

GARBAGE_KEY = "gAAAAABnot-a-real-key"


def _plant_garbage_key(payee_pk: int) -> None:
    """What the payee guard cannot refuse: any non-empty new key passes as a rotation (SQL
    cannot open a Fernet token)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounting_payee SET wrapped_key = %s WHERE id = %s", [GARBAGE_KEY, payee_pk]
        )


def _every_token_but_payee(payee_pk: int) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every token decrypted, but the planted payee's own (its key is garbage)."""
    found: dict[tuple[str, str, int], dict[str, Any]] = {}
    for token in TOKEN_FIELDS:
        model = apps.get_model(token.model)
        key = f"{token.key_path}__wrapped_key" if token.key_path else "wrapped_key"
        rows = model.objects.exclude(**{token.field: ""}).values_list("pk", token.field, key)
        for pk, value, wrapped in rows:
            if (token.model, pk) != ("accounting.Payee", payee_pk):
                found[(token.model, token.field, pk)] = decrypt_json(wrapped, value)
    return found


def _planted_payee(world: Any) -> Payee:
    """A person payee registered before everything else, so every other row comes after it."""
    return create_payee(
        actor=world.treasurer,
        kind="person",
        person_name="Planterad Nyckel",
        method="bankgiro",
        account="9912346",
        beneficiary=world.new_application("100", name="Planterad Nyckel").beneficiary,
    )


def test_one_unreadable_key_is_skipped_and_reported_while_rotation_and_rekey_finish_the_rest(
    world, settings, master_keys
):
    old, new = master_keys
    planted = _planted_payee(world)
    build_every_encrypted_row(world)
    holders = wrapped_keys()
    before = _every_token_but_payee(planted.pk)
    secrets_before = read_every_master_wrapped()
    assert secrets_before, "a bank file's nonce comes after the planted row"
    _plant_garbage_key(planted.pk)
    skipped = [{"model": "accounting.payee", "id": planted.pk, "reference": planted.reference}]

    _use_keys(settings, new, old)
    with pytest.raises(RowsSkipped) as rotation:
        privacy.rotate_master_keys(batch_size=1)
    assert [row.as_payload() for row in rotation.value.skipped] == skipped
    _use_keys(settings, new)
    assert _every_token_but_payee(planted.pk) == before  # every row after it was re-wrapped
    assert read_every_master_wrapped() == secrets_before
    event = AuditEvent.objects.get(action="keys.rotated")
    assert event.payload["skipped"] == skipped
    assert event.payload["keys"] == len(holders) - 1

    _use_keys(settings, new, old)
    with pytest.raises(RowsSkipped) as rekey:
        privacy.rekey_after_leak(batch_size=1)
    assert [row.as_payload() for row in rekey.value.skipped] == skipped
    _use_keys(settings, new)
    assert _every_token_but_payee(planted.pk) == before
    assert read_every_master_wrapped() == secrets_before
    event = AuditEvent.objects.get(action="keys.rekeyed")
    assert event.payload["skipped"] == skipped
    assert event.payload["keys"] == len(holders) - 1
    assert Payee.objects.get(pk=planted.pk).wrapped_key == GARBAGE_KEY  # left as found


def test_rekey_keeps_the_old_key_of_a_holder_whose_token_cannot_be_read_and_reports_it(
    world, settings, master_keys
):
    old, new = master_keys
    person = world.new_application("100", name="Trasig Token").beneficiary
    later = world.new_application("200", name="Senare Person").beneficiary
    item = NeedItem.objects.get(application__beneficiary=person)
    NeedItem.objects.filter(pk=item.pk).update(encrypted_description="gAAAAABgarbage")
    wrapped_before = Beneficiary.objects.get(pk=person.pk).wrapped_key

    _use_keys(settings, new, old)
    with pytest.raises(RowsSkipped) as rekey:
        privacy.rekey_after_leak(batch_size=1)
    assert [row.as_payload() for row in rekey.value.skipped] == [
        {"model": "fund.beneficiary", "id": person.pk, "reference": person.reference}
    ]
    # Not given a new key (its unreadable token would be orphaned); the rest is re-keyed.
    assert Beneficiary.objects.get(pk=person.pk).wrapped_key == wrapped_before
    _use_keys(settings, new)
    assert Beneficiary.objects.get(pk=later.pk).personal_data["name"] == "Senare Person"


def test_the_rotate_and_rekey_commands_name_the_skipped_rows_and_exit_non_zero(
    world, settings, master_keys, capsys
):
    old, new = master_keys
    planted = _planted_payee(world)
    world.new_application("200", name="Senare Person")
    _plant_garbage_key(planted.pk)
    _use_keys(settings, new, old)
    for command in ("rotate_keys", "rekey_data"):
        with pytest.raises(CommandError) as failed:
            call_command(command)
        assert planted.reference in str(failed.value)
        assert "1 rows" in str(failed.value)
        assert "Senare" not in str(failed.value)
    out = capsys.readouterr().out  # the two people's keys were done
    assert "Re-wrapped 2 data keys" in out
    assert "2 new data keys" in out
