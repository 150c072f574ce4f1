"""Issue #14, defect 7: after erasure and `privacy_compact`, no old row version holds the key."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection

from fund.models import Beneficiary
from fund.token_fields import KEY_HOLDERS, TOKEN_FIELDS, personal_data_tables
from privacy.erasure import erase_person
from workflows import services


def _relation_bytes(table: str) -> bytes:
    """The table's heap file as PostgreSQL wrote it to disk (superuser only, as in CI)."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT pg_read_binary_file(pg_relation_filepath(%s))", [table])
        return bytes(cursor.fetchone()[0])


def test_compaction_covers_every_table_that_holds_keys_or_tokens() -> None:
    from django.apps import apps

    tables = set(personal_data_tables())
    for entry in (*KEY_HOLDERS, *TOKEN_FIELDS):
        assert apps.get_model(entry.model)._meta.db_table in tables


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_erased_persons_old_wrapped_key_is_gone_from_the_table_file_after_compaction(world):
    kept = services.register_beneficiary(actor=world.ombud.user, name="Kvar Kvarsson")
    erased = services.register_beneficiary(actor=world.ombud.user, name="Borta Bortsson")
    old_key = Beneficiary.objects.get(pk=erased.pk).wrapped_key.encode()
    erase_person(erased, actor=world.admin, today=date(2100, 1, 1))

    call_command("privacy_compact")

    table = Beneficiary._meta.db_table
    raw = _relation_bytes(table)
    assert Beneficiary.objects.get(pk=kept.pk).wrapped_key.encode() in raw  # the scan sees keys
    assert old_key not in raw


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_compaction_says_so_when_an_open_transaction_still_pins_the_old_key(world):
    """A snapshot older than the erasure keeps the old row: the command fails, it never lies."""
    import psycopg
    from django.core.management.base import CommandError

    erased = services.register_beneficiary(actor=world.ombud.user, name="Borta Bortsson")
    params = connection.settings_dict
    reader = psycopg.connect(
        dbname=params["NAME"],
        host=params["HOST"] or "127.0.0.1",
        port=str(params["PORT"] or 5432),
        user=params["USER"],
        password=params["PASSWORD"] or "",
    )
    try:
        reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT 1").fetchone()  # its snapshot predates the erasure
        erase_person(erased, actor=world.admin, today=date(2100, 1, 1))
        with pytest.raises(CommandError, match="fund_beneficiary: 1 old row versions kept"):
            call_command("privacy_compact", "--attempts", "2")
    finally:
        reader.close()
    call_command("privacy_compact")  # the transaction ended: now it is clean


def test_privacy_docs_name_every_table_that_holds_personal_data() -> None:
    from django.conf import settings

    text = (settings.BASE_DIR / "docs" / "privacy.md").read_text(encoding="utf-8")
    missing = [table for table in personal_data_tables() if f"`{table}`" not in text]
    assert not missing
