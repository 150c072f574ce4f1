"""`check_production` opens every stored key, not one per kind (issue #14, second review M1).

After a rotation interrupted part-way and the old master key removed, the first row of each
holder opens with the new key while every later one does not: trying one row passed such a
database, and every later person then failed to decrypt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from accounting.payouts import batches
from core import crypto
from fund import key_management, privacy
from fund.models import Beneficiary
from operations.production_checks import stored_key_problems

NAME = "Nora Nyckelsson"


@pytest.fixture
def master_keys(settings: Any) -> Iterator[tuple[str, str]]:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    crypto.reset_key_cache()
    yield old, new
    settings.FIELD_ENCRYPTION_KEYS = []
    crypto.reset_key_cache()


def _use_keys(settings: Any, *keys: str) -> None:
    settings.FIELD_ENCRYPTION_KEYS = list(keys)
    crypto.reset_key_cache()


def test_check_production_opens_every_stored_key_so_an_interrupted_rotation_is_refused(
    world: Any, settings: Any, master_keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = master_keys
    people = [world.new_application("100", name=NAME).beneficiary for _ in range(3)]
    _use_keys(settings, new, old)
    calls = {"n": 0}
    real = key_management.rewrap

    def dies_after_first(value: str) -> str:
        calls["n"] += 1
        if calls["n"] > 1:
            raise KeyboardInterrupt("the pod was evicted")
        return real(value)

    monkeypatch.setattr(key_management, "rewrap", dies_after_first)
    with pytest.raises(KeyboardInterrupt):
        privacy.rotate_master_keys(batch_size=1)
    monkeypatch.setattr(key_management, "rewrap", real)
    assert stored_key_problems() == [], "both keys configured: every row opens"

    _use_keys(settings, new)  # the old key retired too early
    problems = "\n".join(stored_key_problems())
    assert "2 of 3" in problems and "fund.Beneficiary" in problems
    for person in people[1:]:
        assert person.reference in problems
    assert people[0].reference not in problems
    assert NAME not in problems and new not in problems and old not in problems
    with pytest.raises(crypto.DecryptionFailed):
        Beneficiary.objects.get(pk=people[1].pk).personal_data  # noqa: B018 - what it prevents


def test_check_production_refuses_a_bank_file_nonce_the_configured_keys_cannot_open(
    world: Any, settings: Any, master_keys: Any
) -> None:
    app = world.run(
        world.to_approved(world.new_application("300")), "schedule_payout", world.treasurer
    )
    batch = batches.approve_batch(
        batches.create_batch(actor=world.treasurer, applications=[app]), actor=world.treasurer2
    )
    batches.export_batch(batch, actor=world.treasurer)
    batch.refresh_from_db()
    assert batch.wrapped_file_nonce and stored_key_problems() == []
    elsewhere = Fernet(Fernet.generate_key()).encrypt(b"a nonce under another key").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounting_paymentbatch SET wrapped_file_nonce = %s WHERE id = %s",
            [elsewhere, batch.pk],
        )

    problems = "\n".join(stored_key_problems())
    assert "1 of 1" in problems and "accounting.PaymentBatch" in problems
    assert batch.message_id in problems
