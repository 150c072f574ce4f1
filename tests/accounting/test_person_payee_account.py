"""A person payee's bank account is personal data: encrypted under the payee's own key,
written only into the bank file, and gone from the database and the payout folder at erasure.

A Nordea personkonto is clearing 3300 + the personnummer, so the account alone names the person.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounting.models import Payee, PaymentBatch
from accounting.payees import Account, approve_payee, create_payee, payee_problems
from accounting.payouts import batches, redaction
from accounting.tasks import generate_payout_file, payout_file_path
from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from privacy.erasure import erase_person
from tests.fund.test_no_plaintext_personal_data import _raw_database_bytes

NAME = "Ylva Personkontosson"
CLEARING = "3300"
ACCOUNT = "8112189876"  # the personnummer 811218-9876


def _person_payee(world, person):  # type: ignore[no-untyped-def]
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name=NAME,
        method="bank_account",
        clearing_number=CLEARING,
        account=ACCOUNT,
        beneficiary=person,
    )
    return approve_payee(payee, actor=world.treasurer2)


def _paid_to_person_with_file(world):  # type: ignore[no-untyped-def]
    """A case paid to the person's own personkonto through a file the worker wrote."""
    app = world.to_approved(world.new_application("700", name=NAME))
    payee = _person_payee(world, app.beneficiary)
    app = world.run(app, "schedule_payout", world.treasurer, payee=payee.pk)
    batch = batches.approve_batch(
        batches.create_batch(actor=world.treasurer, applications=[app]), actor=world.treasurer2
    )
    generate_payout_file.delay(batch.message_id, world.treasurer.pk).get()
    batches.mark_sent(batch, actor=world.treasurer)
    app = world.run(app, "confirm_paid", world.treasurer)
    app = world.run(app, "close", world.officer)
    return app, payee, batch


def test_a_person_payees_account_is_kept_only_under_the_persons_key(world):
    app = world.new_application("500", name=NAME)
    payee = _person_payee(world, app.beneficiary)
    stored = Payee.objects.get(pk=payee.pk)
    assert (stored.account, stored.clearing_number, stored.bic) == ("", "", "")
    assert stored.destination() == Account("bank_account", ACCOUNT, clearing_number=CLEARING)
    assert stored.account_ending == ACCOUNT[-4:]


def test_the_database_refuses_a_person_payees_account_in_plain_columns(world):
    app = world.new_application("500", name=NAME)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payee.objects.create(
            reference="P-2026-999999",
            kind="person",
            beneficiary=app.beneficiary,
            method="bank_account",
            clearing_number=CLEARING,
            account=ACCOUNT,
        )


def test_the_bank_file_pays_a_person_payees_decrypted_account(world, settings, tmp_path):
    settings.PAYOUT_FILES_DIR = tmp_path
    _app, payee, batch = _paid_to_person_with_file(world)
    content = payout_file_path(batch.message_id).read_bytes()
    assert f"<Id>{CLEARING}{ACCOUNT}</Id>".encode() in content
    assert f"<MmbId>{CLEARING}</MmbId>".encode() in content
    assert payee.reference.encode() in content and NAME.encode() not in content


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_erasure_removes_the_personkonto_from_the_database_and_the_bank_files(
    world, settings, tmp_path
):
    from accounting.exports.jobs import start_export

    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"
    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    app, payee, batch = _paid_to_person_with_file(world)
    path = payout_file_path(batch.message_id)
    assert ACCOUNT.encode() in path.read_bytes()
    nonce = PaymentBatch.objects.get(pk=batch.pk).file_nonce
    assert nonce.encode() in path.read_bytes()
    year = app.state_changed_at.year
    for kind in ("sie4i", "ledger_csv", "ledger_xlsx", "ledger_jsonl"):
        start_export(actor=world.treasurer, kind=kind, year=year)  # the books name references only
    assert len(list(settings.EXPORT_FILES_DIR.iterdir())) == 4

    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    stored = Payee.objects.get(pk=payee.pk)
    assert (stored.account, stored.clearing_number, stored.bic) == ("", "", "")
    assert stored.wrapped_key == "" and stored.encrypted_personal_data == ""
    redacted = path.read_bytes()
    assert redaction.REDACTED.encode() in redacted and batch.message_id.encode() in redacted
    for folder in (settings.PAYOUT_FILES_DIR, settings.EXPORT_FILES_DIR):
        for file in folder.rglob("*") if folder.exists() else []:
            if file.is_file():
                assert ACCOUNT.encode() not in file.read_bytes(), file
                assert nonce.encode() not in file.read_bytes(), file
    raw = _raw_database_bytes(tmp_path)
    assert ACCOUNT.encode() not in raw and NAME.encode() not in raw
    assert nonce.encode() not in raw  # the file's digest cannot be recomputed
    erased = AuditEvent.objects.get(action="beneficiary.erased")
    assert erased.payload["payees"] == {
        "count": 1,
        "bank_files_redacted": [batch.message_id],
        "legacy_file_digests_blanked": 0,
        "batch_nonces_destroyed": 1,
    }
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_a_bank_file_that_named_an_erased_person_is_not_produced_again(world, settings, tmp_path):
    settings.PAYOUT_FILES_DIR = tmp_path
    app, _payee, batch = _paid_to_person_with_file(world)
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    batch = PaymentBatch.objects.get(pk=batch.pk)
    with pytest.raises(ValidationFailed, match="erased"):
        batches.export_batch(batch, actor=world.treasurer)
    with pytest.raises(ValidationFailed, match="erased"):
        generate_payout_file.delay(batch.message_id, world.treasurer.pk).get()
    assert ACCOUNT.encode() not in payout_file_path(batch.message_id).read_bytes()


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_person_accounts_into_the_token(world):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from core.crypto import encrypt_json, new_wrapped_key

    before, after = (
        ("accounting", "0009_payout_lifecycle"),
        [("accounting", "0010_person_payee_account_encrypted")],
    )
    person = world.new_application("500", name=NAME).beneficiary
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([before])
        old_apps = executor.loader.project_state([before]).apps
        OldPayee = old_apps.get_model("accounting", "Payee")
        wrapped = new_wrapped_key()
        approved = OldPayee.objects.create(
            reference="P-2026-900001",
            kind="person",
            beneficiary_id=person.pk,
            method="bank_account",
            account=ACCOUNT,
            clearing_number=CLEARING,
            wrapped_key=wrapped,
            encrypted_personal_data=encrypt_json(wrapped, {"name": NAME}),
            registered_by_id=world.treasurer.pk,
        )
        # Approved as the application does it: never inserted approved (the payee guard).
        OldPayee.objects.filter(pk=approved.pk).update(
            approved_by_id=world.treasurer2.pk, approved_at=timezone.now()
        )
        OldPayee.objects.create(  # erased before: its clearing number could not be blanked then
            reference="P-2026-900002",
            kind="person",
            beneficiary_id=person.pk,
            method="bank_account",
            clearing_number=CLEARING,
            active=False,
        )
        OldPayee.objects.create(  # from before person payees had their own key
            reference="P-2026-900003",
            kind="person",
            beneficiary_id=person.pk,
            method="bankgiro",
            account="9912346",
        )
        executor = MigrationExecutor(connection)
        executor.migrate(after)

        moved = Payee.objects.get(reference="P-2026-900001")
        assert (moved.account, moved.clearing_number, moved.bic) == ("", "", "")
        assert moved.personal_data["name"] == NAME
        assert moved.destination() == Account("bank_account", ACCOUNT, clearing_number=CLEARING)
        bound = moved.own_personal_data()  # bound to its row, person, kind, method, registrar
        assert (bound["payee"], bound["beneficiary"]) == (moved.reference, person.pk)
        assert (bound["kind"], bound["method"]) == ("person", "bank_account")
        assert bound["registered_by"] == world.treasurer.pk
        assert payee_problems(moved) == []  # its approval is in the token too
        erased = Payee.objects.get(reference="P-2026-900002")
        assert (erased.account, erased.clearing_number) == ("", "")
        legacy = Payee.objects.get(reference="P-2026-900003")
        assert legacy.account == "" and legacy.destination() == Account("bankgiro", "9912346")
        with pytest.raises(IntegrityError), transaction.atomic():  # the payee guard is back
            Payee.objects.filter(pk=moved.pk).update(method="bankgiro")
    finally:  # the later migrations too, or the next tests miss their columns
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_admin_shows_only_the_end_of_a_person_payees_account(world, client):
    from django.urls import reverse

    from tests.factories import UserFactory
    from tests.signin import sign_in

    payee = _person_payee(world, world.new_application("500", name=NAME).beneficiary)
    admin_user = UserFactory(roles=["administrator"], is_staff=True, is_superuser=True)
    page = sign_in(client, admin_user).get(
        reverse("admin:accounting_payee_change", args=[payee.pk])
    )
    text = page.content.decode()
    assert page.status_code == 200 and "ending 9876" in text
    assert ACCOUNT not in text and NAME not in text
