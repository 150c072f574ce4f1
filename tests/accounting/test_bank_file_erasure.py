"""Erasure reaches every bank file that named a person's account (issue #14, review 14b).

A file erasure cannot reach keeps the personkonto (clearing 3300 + the personnummer) for good,
so erasure refuses when the payout folder is missing, an erased person's file found later can
be redacted without the key, copies written by ``payout_file --output`` are owner-only, and a
voided file is overwritten before it is unlinked.
"""

from __future__ import annotations

import os
import stat
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from accounting import pain001
from accounting.models import PaymentBatch
from accounting.payouts import redaction
from accounting.tasks import payout_file_path
from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from fund.models import Beneficiary
from privacy.erasure import erase_person
from tests.accounting.test_person_payee_account import (
    ACCOUNT,
    CLEARING,
    _paid_to_person_with_file,
)

LATER = date(2100, 1, 1)
NS = {"p": pain001.NAMESPACE}


def test_erasure_is_refused_while_the_payout_folder_is_missing(world, settings, tmp_path):
    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"
    app, _payee, batch = _paid_to_person_with_file(world)
    path = payout_file_path(batch.message_id)
    assert ACCOUNT.encode() in path.read_bytes()

    settings.PAYOUT_FILES_DIR = tmp_path / "not-mounted"  # another host's settings, not mounted
    with pytest.raises(ValidationFailed, match="PAYOUT_FILES_DIR") as refused:
        erase_person(app.beneficiary, actor=world.admin, today=LATER)
    assert str(tmp_path / "not-mounted") in str(refused.value)
    person = Beneficiary.objects.get(pk=app.beneficiary.pk)
    assert not person.is_erased and person.wrapped_key  # nothing destroyed
    assert PaymentBatch.objects.get(pk=batch.pk).file_nonce
    assert not AuditEvent.objects.filter(action="beneficiary.erased").exists()

    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"  # mounted again: erasure redacts the file
    erase_person(app.beneficiary, actor=world.admin, today=LATER)
    assert ACCOUNT.encode() not in path.read_bytes()


def test_a_person_paid_by_no_file_is_erased_without_a_payout_folder(world, settings, tmp_path):
    from tests.accounting.test_person_payee_account import NAME, _person_payee

    settings.PAYOUT_FILES_DIR = tmp_path / "never-created"
    app = world.run(
        world.new_application("500", name=NAME), "withdraw", world.ombud.user, reason="other"
    )
    _person_payee(world, app.beneficiary)  # registered, never in a file
    erase_person(app.beneficiary, actor=world.admin, today=LATER)
    assert Beneficiary.objects.get(pk=app.beneficiary.pk).is_erased


def test_an_erased_persons_bank_file_is_redacted_without_the_key(world, settings, tmp_path):
    """A file erasure did not see (the folder held other files on that host, or the file came
    back from a backup) is redacted by its message id: the transfers to erased person payees
    are found by their end-to-end ids, so no key is needed."""
    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"
    app, _payee, batch = _paid_to_person_with_file(world)
    path = payout_file_path(batch.message_id)
    nonce = PaymentBatch.objects.get(pk=batch.pk).file_nonce
    settings.PAYOUT_FILES_DIR = tmp_path / "elsewhere"
    (tmp_path / "elsewhere").mkdir()
    erase_person(app.beneficiary, actor=world.admin, today=LATER)
    assert ACCOUNT.encode() in path.read_bytes()  # erasure could not see it

    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"
    call_command("redact_bank_files", batch.message_id, stdout=open(os.devnull, "w"))  # noqa: SIM115

    content = path.read_bytes()
    assert ACCOUNT.encode() not in content
    assert (CLEARING + ACCOUNT).encode() not in content
    assert nonce.encode() not in content
    root = etree.fromstring(content)
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id
    assert root.findtext(".//p:PmtInfId", namespaces=NS) == redaction.REDACTED
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    event = AuditEvent.objects.get(action="payout.bank_file_redacted")
    assert event.object_ref == batch.message_id
    assert event.payload["batch"] == batch.pk
    with pytest.raises(CommandError, match="No payment batch"):
        call_command("redact_bank_files", "FF-NO-SUCH-BATCH")


def test_payout_file_output_is_owner_only_and_never_overwritten_silently(world, settings, tmp_path):
    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"
    _app, _payee, batch = _paid_to_person_with_file(world)
    copy = tmp_path / "elsewhere" / "batch.xml"
    copy.parent.mkdir()
    old_umask = os.umask(0o022)
    try:
        call_command(
            "payout_file",
            batch=batch.message_id,
            output=str(copy),
            user=world.treasurer.username,
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert (CLEARING + ACCOUNT).encode() in copy.read_bytes()
        with pytest.raises(CommandError, match="exists"):
            call_command(
                "payout_file",
                batch=batch.message_id,
                output=str(copy),
                user=world.treasurer.username,
            )
        copy.chmod(0o644)
        call_command(
            "payout_file",
            batch=batch.message_id,
            output=str(copy),
            user=world.treasurer.username,
            force=True,
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)
