"""The bank file's digest must not give an erased person's account back.

``PaymentBatch.file_sha256`` and the permanent ``payout.batch_exported`` event keep the plain
SHA-256 of the pain.001 file. Everything else in the file can be rebuilt from the database, and
a personkonto is clearing 3300 + the personnummer (~10^7 candidates), so without a secret in the
file anyone holding the database could hash candidates until one matched. Each batch therefore
writes a random nonce into the file (``PmtInfId``); erasure destroys it in the database and in
the redacted file.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import pytest
from django.utils import timezone
from lxml import etree

from accounting import pain001
from accounting.models import PaymentBatch, PaymentOrder
from accounting.payouts import batches, redaction, settlement
from accounting.tasks import payout_file_path
from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from fund import privacy
from privacy.erasure import erase_person
from tests.accounting.test_person_payee_account import (
    ACCOUNT,
    CLEARING,
    _paid_to_person_with_file,
)

NS = {"p": pain001.NAMESPACE}


def _attacker_digest(batch: PaymentBatch, *, clearing: str, account: str) -> str:
    """What someone holding only the database computes for one candidate account: the file
    rebuilt from the batch's stored values, the candidate put in for the person's payee."""
    batch = PaymentBatch.objects.get(pk=batch.pk)
    orders = PaymentOrder.objects.filter(batch=batch, in_file=True).select_related("payee")
    transfers = [
        pain001.Transfer(
            end_to_end_id=f"PO-{order.pk}",
            amount=order.amount.amount,
            creditor_name=order.payee.bank_file_name,
            method=order.payee.method,
            account=account,
            clearing_number=clearing,
            bic="",
            remittance=order.remittance,
        )
        for order in orders.order_by("pk")
    ]
    stored: dict[str, Any] = {"nonce": batch.file_nonce} if batch.file_nonce else {}
    content = pain001.build(
        message_id=batch.message_id,
        created_at=timezone.localtime(batch.exported_at),
        execution_date=batch.execution_date,
        transfers=transfers,
        **stored,
    )
    return hashlib.sha256(content).hexdigest()


def _filled_in(redacted: bytes, *, clearing: str, account: str) -> bytes:
    """The redacted file on disk with a candidate account put back where it was redacted."""
    root = etree.fromstring(redacted)
    for element in root.iterfind(".//p:CdtrAcct/p:Id/p:Othr/p:Id", NS):
        if element.text == redaction.REDACTED:
            element.text = clearing + account
    for element in root.iterfind(".//p:CdtrAgt//p:MmbId", NS):
        if element.text == redaction.REDACTED:
            element.text = clearing
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _approved_batch(world: Any, amount: str = "100") -> PaymentBatch:
    app = world.to_approved(world.new_application(amount))
    world.run(app, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    return batches.approve_batch(batch, actor=world.treasurer2)


def _exported_as_before_the_nonce(batch: PaymentBatch, exporter: Any) -> bytes:
    """Mark the batch exported the way migration 0011's predecessors did: no nonce in the file."""
    created_at = timezone.localtime()
    old_file = pain001.build(
        message_id=batch.message_id,
        created_at=created_at,
        execution_date=batch.execution_date,
        transfers=batches.transfers_of(batch),
    )
    batch.orders.update(in_file=True)
    PaymentBatch.objects.filter(pk=batch.pk).update(
        exported_at=created_at,
        exported_by=exporter,
        file_sha256=hashlib.sha256(old_file).hexdigest(),
        wrapped_file_nonce="",
    )
    return old_file


def test_each_bank_file_carries_its_batchs_secret_nonce_and_still_validates(world):
    batch = _approved_batch(world)
    content = batches.export_batch(batch, actor=world.treasurer)
    batch.refresh_from_db()
    assert re.fullmatch(r"[0-9a-f]{32}", batch.file_nonce)  # 128 random bits
    root = etree.fromstring(content)
    assert root.findtext(".//p:PmtInf/p:PmtInfId", namespaces=NS) == batch.file_nonce
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id
    pain001.validate(content)
    assert batch.file_sha256 == hashlib.sha256(content).hexdigest()
    assert batches.export_batch(batch, actor=world.treasurer) == content  # the same bytes again
    other = _approved_batch(world, "200")
    batches.export_batch(other, actor=world.treasurer)
    other.refresh_from_db()
    assert other.file_nonce != batch.file_nonce


def test_a_batch_exported_before_the_nonce_re_exports_the_same_bytes(world):
    """Batches exported before migration 0011 have no nonce: their file is what it was."""
    batch = _approved_batch(world)
    old_file = _exported_as_before_the_nonce(batch, world.treasurer)
    batch.refresh_from_db()

    assert batches.export_batch(batch, actor=world.treasurer) == old_file
    batch.refresh_from_db()
    assert batch.file_nonce == ""
    assert etree.fromstring(old_file).findtext(".//p:PmtInfId", namespaces=NS) == (batch.message_id)


def test_after_erasure_the_bank_files_digest_no_longer_gives_the_account_back(
    world, settings, tmp_path
):
    settings.PAYOUT_FILES_DIR = tmp_path
    app, _payee, batch = _paid_to_person_with_file(world)
    batch.refresh_from_db()
    # Before erasure the database's values rebuild the file exactly (the model is faithful).
    assert _attacker_digest(batch, clearing=CLEARING, account=ACCOUNT) == batch.file_sha256

    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    batch.refresh_from_db()
    exported = AuditEvent.objects.get(action="payout.batch_exported", object_ref=batch.message_id)
    assert exported.payload["sha256"] == batch.file_sha256  # the digest itself stays
    assert _attacker_digest(batch, clearing=CLEARING, account=ACCOUNT) != batch.file_sha256
    redacted = payout_file_path(batch.message_id).read_bytes()
    refilled = _filled_in(redacted, clearing=CLEARING, account=ACCOUNT)
    assert ACCOUNT.encode() in refilled
    assert hashlib.sha256(refilled).hexdigest() != batch.file_sha256


def test_erasure_destroys_the_nonce_of_every_batch_that_paid_the_person(world, settings, tmp_path):
    settings.PAYOUT_FILES_DIR = tmp_path
    app, _payee, batch = _paid_to_person_with_file(world)
    untouched = _approved_batch(world, "300")  # someone else's file keeps its nonce
    batches.export_batch(untouched, actor=world.treasurer)
    untouched.refresh_from_db()
    nonce = PaymentBatch.objects.get(pk=batch.pk).file_nonce
    assert nonce

    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    assert PaymentBatch.objects.get(pk=batch.pk).file_nonce == ""
    assert PaymentBatch.objects.get(pk=untouched.pk).file_nonce == untouched.file_nonce
    erased = AuditEvent.objects.get(action="beneficiary.erased")
    assert erased.payload["payees"]["batch_nonces_destroyed"] == 1
    assert nonce not in str(erased.payload)


def test_the_redacted_bank_file_holds_neither_the_account_nor_the_nonce(world, settings, tmp_path):
    settings.PAYOUT_FILES_DIR = tmp_path
    app, _payee, batch = _paid_to_person_with_file(world)
    path = payout_file_path(batch.message_id)
    nonce = PaymentBatch.objects.get(pk=batch.pk).file_nonce
    assert nonce and nonce.encode() in path.read_bytes()

    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    redacted = path.read_bytes()
    assert ACCOUNT.encode() not in redacted
    assert nonce.encode() not in redacted
    root = etree.fromstring(redacted)
    assert root.findtext(".//p:PmtInfId", namespaces=NS) == redaction.REDACTED
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id


def test_a_file_that_did_not_carry_the_persons_order_keeps_its_nonce(world):
    """An order that failed before the export is in the batch but not in its file."""
    from tests.accounting.test_person_payee_account import NAME, _person_payee

    person_case = world.to_approved(world.new_application("400", name=NAME))
    payee = _person_payee(world, person_case.beneficiary)
    world.run(person_case, "schedule_payout", world.treasurer, payee=payee.pk)
    other_case = world.to_approved(world.new_application("500"))
    world.run(other_case, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[person_case, other_case])
    batches.approve_batch(batch, actor=world.treasurer2)
    settlement.reject_orders(PaymentOrder.objects.filter(payee=payee), actor=world.treasurer)
    content = batches.export_batch(batch, actor=world.treasurer)
    assert f"PO-{PaymentOrder.objects.get(payee=payee).pk}<".encode() not in content
    nonce = PaymentBatch.objects.get(pk=batch.pk).file_nonce

    assert redaction.destroy_file_nonces([payee.pk]) == 0
    assert PaymentBatch.objects.get(pk=batch.pk).file_nonce == nonce
    assert batches.export_batch(batch, actor=world.treasurer) == content


def _file_nonce(content: bytes) -> str:
    return str(etree.fromstring(content).findtext(".//p:PmtInf/p:PmtInfId", namespaces=NS))


def _batch_row(batch: PaymentBatch) -> list[Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounting_paymentbatch WHERE id = %s", [batch.pk])
        return list(cursor.fetchone())


def test_the_batch_nonce_cannot_be_read_from_a_database_copy_without_the_master_key(world):
    """Before erasure the digest and the nonce would give a living person's personkonto back
    to whoever holds the database alone: the nonce is stored only wrapped by the master keys."""
    from cryptography.fernet import Fernet, InvalidToken

    batch = _approved_batch(world)
    nonce = _file_nonce(batches.export_batch(batch, actor=world.treasurer))
    assert re.fullmatch(r"[0-9a-f]{32}", nonce)
    row = _batch_row(batch)
    assert not [value for value in row if isinstance(value, str) and nonce in value]
    stored = PaymentBatch.objects.get(pk=batch.pk)
    assert stored.file_nonce == nonce  # the application, holding the master key, reads it
    with pytest.raises(InvalidToken):  # any other key does not
        Fernet(Fernet.generate_key()).decrypt(stored.wrapped_file_nonce.encode())


@pytest.fixture
def master_keys(settings) -> Any:  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    from core.crypto import reset_key_cache

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    reset_key_cache()
    yield old, new
    settings.FIELD_ENCRYPTION_KEYS = []
    reset_key_cache()


def test_rotation_and_re_keying_keep_every_exported_files_bytes(world, settings, master_keys):
    from cryptography.fernet import Fernet, InvalidToken

    from core.crypto import reset_key_cache

    old, new = master_keys
    batch = _approved_batch(world)
    content = batches.export_batch(batch, actor=world.treasurer)
    wrapped_before = PaymentBatch.objects.get(pk=batch.pk).wrapped_file_nonce

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    reset_key_cache()
    privacy.rotate_master_keys()
    assert batches.export_batch(batch, actor=world.treasurer) == content
    privacy.rekey_after_leak()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    reset_key_cache()

    stored = PaymentBatch.objects.get(pk=batch.pk)
    assert stored.wrapped_file_nonce != wrapped_before
    with pytest.raises(InvalidToken):  # the retired master key no longer opens it
        Fernet(old).decrypt(stored.wrapped_file_nonce.encode())
    assert batches.export_batch(stored, actor=world.treasurer) == content
    assert stored.file_sha256 == hashlib.sha256(content).hexdigest()


def test_erasure_blanks_the_digest_of_a_file_exported_before_the_nonce(world, settings, tmp_path):
    """Review 14b, H2: a file exported before migration 0011 has no nonce, so everything in it
    can be rebuilt from the database; its stored digest would give the erased personkonto back
    (3300 + candidate personnummer) unless erasure blanks it."""
    from tests.accounting.test_person_payee_account import NAME, _person_payee

    settings.PAYOUT_FILES_DIR = tmp_path
    app = world.to_approved(world.new_application("700", name=NAME))
    payee = _person_payee(world, app.beneficiary)
    app = world.run(app, "schedule_payout", world.treasurer, payee=payee.pk)
    batch = batches.approve_batch(
        batches.create_batch(actor=world.treasurer, applications=[app]), actor=world.treasurer2
    )
    _exported_as_before_the_nonce(batch, world.treasurer)
    batches.mark_sent(PaymentBatch.objects.get(pk=batch.pk), actor=world.treasurer)
    app = world.run(app, "confirm_paid", world.treasurer)
    app = world.run(app, "close", world.officer)
    untouched = _approved_batch(world, "300")  # someone else's legacy-free file keeps its digest
    batches.export_batch(untouched, actor=world.treasurer)
    untouched_digest = PaymentBatch.objects.get(pk=untouched.pk).file_sha256
    assert _attacker_digest(batch, clearing=CLEARING, account=ACCOUNT) == (
        PaymentBatch.objects.get(pk=batch.pk).file_sha256
    )

    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    batch.refresh_from_db()
    assert batch.file_sha256 == ""
    candidates = ["8112189868", ACCOUNT, "8112189884"]
    digests = {_attacker_digest(batch, clearing=CLEARING, account=c) for c in candidates}
    assert batch.file_sha256 not in digests
    assert PaymentBatch.objects.get(pk=untouched.pk).file_sha256 == untouched_digest
    erased = AuditEvent.objects.get(action="beneficiary.erased")
    assert erased.payload["payees"]["legacy_file_digests_blanked"] == 1
    assert erased.payload["payees"]["batch_nonces_destroyed"] == 0
    with pytest.raises(ValidationFailed):  # such a file is never produced again
        batches.export_batch(batch, actor=world.treasurer)
