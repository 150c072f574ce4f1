"""A person payee stays with its person (issue #14, second review H1).

The payee guard watched UPDATE only: an approved person payee without orders could be deleted
and inserted again with the same reference, key and token but another person, so that person's
grants paid the first person's personkonto and their subject access report showed it. Now the
database refuses to delete a payee or to insert one already approved, and the token names the
payee's person, kind, method and registrar, so a row moved by someone who drops the triggers
is still never paid nor shown to the other person.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounting import db_guards
from accounting.models import Payee, PaymentOrder
from accounting.payees import payee_problems
from core.exceptions import ValidationFailed
from privacy.subject_access import subject_access_report
from tests.accounting.test_person_payee_account import ACCOUNT, NAME, _person_payee

NOT_ITS_OWN = "stored account does not belong to this payee"
OTHER_NAME = "Bertil Annanperson"


def _reinsert(payee: Payee, **changes: Any) -> None:
    """The review's move: DELETE the row and INSERT it again, with raw SQL (no master key)."""
    row: dict[str, Any] = {**Payee.objects.filter(pk=payee.pk).values().get(), **changes}
    fields = {f.attname: f for f in Payee._meta.concrete_fields}
    columns = [fields[name].column for name in row]
    values = [fields[name].get_db_prep_save(value, connection) for name, value in row.items()]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounting_payee WHERE id = %s", [payee.pk])
        cursor.execute(
            f"INSERT INTO accounting_payee ({', '.join(columns)}) "  # noqa: S608 - test SQL
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )


def _guard_dropped(payee: Payee, **changes: Any) -> None:
    """The insider who can also drop triggers makes the same move."""
    with transaction.atomic():
        db_guards.uninstall_payee_guard(connection)
        _reinsert(payee, **changes)
        db_guards.install_payee_guard(connection)


def test_a_payee_is_never_deleted(world: Any) -> None:
    person_payee = _person_payee(world, world.new_application("100", name=NAME).beneficiary)
    supplier = Payee.objects.get(kind="organisation")
    for payee in (person_payee, supplier):
        with (
            pytest.raises(IntegrityError, match="never deleted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM accounting_payee WHERE id = %s", [payee.pk])
        assert Payee.objects.filter(pk=payee.pk).exists()


def test_a_person_payee_cannot_be_moved_to_another_person_by_delete_and_insert(
    world: Any,
) -> None:
    case_a = world.to_approved(world.new_application("100", name=NAME))
    payee = _person_payee(world, case_a.beneficiary)
    person_b = world.to_approved(world.new_application("200", name=OTHER_NAME)).beneficiary

    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic():
        _reinsert(payee, beneficiary_id=person_b.pk)

    assert Payee.objects.get(pk=payee.pk).beneficiary_id == case_a.beneficiary_id


def test_a_payee_is_never_inserted_already_approved(world: Any) -> None:
    with pytest.raises(IntegrityError, match="inserted already approved"), transaction.atomic():
        Payee.objects.create(
            reference="P-2026-999998",
            kind="supplier",
            name="Optikern AB",
            method="bankgiro",
            account="56781230",
            registered_by=world.treasurer,
            approved_by=world.treasurer2,
            approved_at=timezone.now(),
        )
    assert not Payee.objects.filter(reference="P-2026-999998").exists()


@pytest.mark.parametrize("moved", ["beneficiary_id", "method", "registered_by_id"])
def test_a_person_payees_token_binds_its_person_kind_method_and_registrar(
    world: Any, moved: str
) -> None:
    case_a = world.to_approved(world.new_application("100", name=NAME))
    payee = _person_payee(world, case_a.beneficiary)
    case_b = world.to_approved(world.new_application("200", name=OTHER_NAME))
    person_b = case_b.beneficiary
    changes = {
        "beneficiary_id": {"beneficiary_id": person_b.pk},
        "method": {"method": "plusgiro"},
        "registered_by_id": {"registered_by_id": world.officer.pk},
    }[moved]

    _guard_dropped(payee, **changes)

    stored = Payee.objects.get(pk=payee.pk)
    with pytest.raises(ValidationFailed, match=NOT_ITS_OWN):
        stored.destination()
    assert [p for p in payee_problems(stored) if NOT_ITS_OWN in p]
    if moved == "beneficiary_id":
        # B's case is never paid to A's personkonto, and B's report never shows A's data.
        with pytest.raises(ValidationFailed, match=NOT_ITS_OWN):
            world.run(case_b, "schedule_payout", world.treasurer, payee=stored.pk)
        assert not PaymentOrder.objects.filter(application=case_b).exists()
        report = subject_access_report(person_b, actor=world.admin)
        assert [p["reference"] for p in report["payees"]] == [stored.reference]
        assert NAME not in str(report) and ACCOUNT not in str(report)


def test_a_person_payees_token_names_its_person_kind_method_and_registrar(world: Any) -> None:
    person = world.new_application("100", name=NAME).beneficiary
    payee = _person_payee(world, person)
    bound = Payee.objects.get(pk=payee.pk).own_personal_data()
    assert {k: bound[k] for k in ("payee", "beneficiary", "kind", "method", "registered_by")} == {
        "payee": payee.reference,
        "beneficiary": person.pk,
        "kind": "person",
        "method": "bank_account",
        "registered_by": world.treasurer.pk,
    }
    # The binding is not the person's data: it is not what personal_data gives out.
    assert set(Payee.objects.get(pk=payee.pk).personal_data) == {
        "name",
        "account",
        "clearing_number",
        "bic",
    }
