"""An insider with the database cannot redirect a person payee's money (issue #14, review H2).

A person payee's account lives only in its token under its own data key. Fernet authenticates
the token, but an UPDATE can still copy another payee's (key, token) pair onto an approved
payee: no master key is needed for that. So the token names the payee it belongs to, every
step that pays refuses a token naming another, and the payee guard refuses the copy itself.
Rotation and re-keying still pass the guard.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError, connection, transaction

from accounting import db_guards
from accounting.models import Payee, PaymentBatch, PaymentOrder
from accounting.payees import approve_payee, create_payee, payee_problems
from accounting.payouts import batches
from core.crypto import reset_key_cache
from core.exceptions import ValidationFailed
from fund import privacy
from privacy.erasure import erase_person
from tests.accounting.test_person_payee_account import ACCOUNT, CLEARING, NAME, _person_payee

NOT_ITS_OWN = "stored account does not belong to this payee"
MULE_ACCOUNT = "9001011239"


def _mule(world: Any) -> Payee:
    """A person payee whose account the insider controls: registered, never approved."""
    app = world.new_application("500", name="Mula Tva")
    return create_payee(
        actor=world.treasurer,
        kind="person",
        person_name="Mula Tva",
        method="bank_account",
        clearing_number=CLEARING,
        account=MULE_ACCOUNT,
        beneficiary=app.beneficiary,
    )


def _another_case(world: Any, person: Any, amount: str) -> Any:
    from workflows import services
    from workflows.services import NeedInput

    items = [NeedInput(category="glasses", amount=amount, description="behov")]
    return services.create_application(
        actor=world.ombud.user, fund=world.fund, beneficiary=person, items=items
    )


def _swap_past_the_guard(victim: Payee, donor: Payee) -> None:
    """The insider who can also drop triggers: the donor's key and token onto the victim."""
    with transaction.atomic():
        db_guards.uninstall_payee_guard(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE accounting_payee SET wrapped_key = %s, encrypted_personal_data = %s "
                "WHERE id = %s",
                [donor.wrapped_key, donor.encrypted_personal_data, victim.pk],
            )
        db_guards.install_payee_guard(connection)


def test_a_person_payees_account_copied_from_another_payee_is_never_paid(world: Any) -> None:
    to_export = world.to_approved(world.new_application("300", name=NAME))
    person = to_export.beneficiary
    victim = _person_payee(world, person)
    to_batch = world.to_approved(_another_case(world, person, "200"))
    to_schedule = world.to_approved(_another_case(world, person, "100"))
    world.run(to_export, "schedule_payout", world.treasurer, payee=victim.pk)
    batch = batches.approve_batch(
        batches.create_batch(actor=world.treasurer, applications=[to_export]),
        actor=world.treasurer2,
    )
    world.run(to_batch, "schedule_payout", world.treasurer, payee=victim.pk)

    _swap_past_the_guard(victim, _mule(world))

    stored = Payee.objects.get(pk=victim.pk)
    assert stored.approved_by_id is not None and stored.active
    with pytest.raises(ValidationFailed, match=NOT_ITS_OWN):
        stored.destination()
    assert [p for p in payee_problems(stored) if NOT_ITS_OWN in p]
    with pytest.raises(ValidationFailed, match=NOT_ITS_OWN):
        world.run(to_schedule, "schedule_payout", world.treasurer, payee=victim.pk)
    order = PaymentOrder.objects.get(application=to_batch)
    with pytest.raises(ValidationFailed, match=NOT_ITS_OWN):
        batches.create_batch(actor=world.treasurer, orders=[order])
    with pytest.raises(ValidationFailed, match=NOT_ITS_OWN):
        batches.export_batch(batch, actor=world.treasurer)
    assert PaymentBatch.objects.get(pk=batch.pk).exported_at is None


def test_the_database_refuses_to_copy_another_payees_key_or_token_onto_a_person_payee(
    world: Any,
) -> None:
    app = world.run(
        world.new_application("500", name=NAME), "withdraw", world.ombud.user, reason="other"
    )
    victim = _person_payee(world, app.beneficiary)
    mule = _mule(world)
    changes: list[dict[str, Any]] = [
        {"wrapped_key": mule.wrapped_key, "encrypted_personal_data": mule.encrypted_personal_data},
        {"encrypted_personal_data": mule.encrypted_personal_data},
        {"wrapped_key": mule.wrapped_key},
        {"wrapped_key": ""},  # erasure blanks both, and deactivates
        {"encrypted_personal_data": "", "active": False},
    ]
    for change in changes:
        with pytest.raises(IntegrityError, match="never edited"), transaction.atomic():
            Payee.objects.filter(pk=victim.pk).update(**change)
    # Once erased, a payee's key never comes back.
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    with pytest.raises(IntegrityError, match="never edited"), transaction.atomic():
        Payee.objects.filter(pk=victim.pk).update(
            wrapped_key=mule.wrapped_key, encrypted_personal_data=mule.encrypted_personal_data
        )


def test_a_person_payees_approval_set_around_the_service_is_not_trusted(world: Any) -> None:
    """Approval is the second treasurer's word: an UPDATE that sets it is not."""
    mule = _mule(world)
    Payee.objects.filter(pk=mule.pk).update(
        approved_by=world.treasurer2, approved_at=mule.created_at
    )
    stored = Payee.objects.get(pk=mule.pk)
    assert payee_problems(stored) != []
    app = world.to_approved(_another_case(world, mule.beneficiary, "100"))
    with pytest.raises(ValidationFailed, match="not given by a second treasurer in Fundflow"):
        world.run(app, "schedule_payout", world.treasurer, payee=mule.pk)


@pytest.fixture
def master_keys(settings: Any) -> Any:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    reset_key_cache()
    yield old, new
    settings.FIELD_ENCRYPTION_KEYS = []
    reset_key_cache()


def test_rotation_and_re_keying_pass_the_payee_guard_and_keep_the_payee_payable(
    world: Any, settings: Any, master_keys: Any
) -> None:
    old, new = master_keys
    payee = _person_payee(world, world.new_application("500", name=NAME).beneficiary)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    reset_key_cache()
    privacy.rotate_master_keys()
    privacy.rekey_after_leak()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    reset_key_cache()
    stored = Payee.objects.get(pk=payee.pk)
    assert stored.wrapped_key != payee.wrapped_key
    assert stored.encrypted_personal_data != payee.encrypted_personal_data
    assert payee_problems(stored) == []
    assert stored.destination().account == ACCOUNT
    approve_payee(stored, actor=world.treasurer2)  # approving again changes nothing
