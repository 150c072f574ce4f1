"""Erasing a person by destroying their key; cases, ledger and audit chain remain."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.key_management import rekey_after_leak as rekey_after_leak
from fund.key_management import rotate_master_keys as rotate_master_keys
from fund.models import Beneficiary
from privacy.retention import retention_of


def erase_person(beneficiary: Beneficiary, *, actor: Any, today: date | None = None) -> Beneficiary:
    """Crypto-shred the person once no hold applies; cases, ledger and audit chain remain."""
    if not has_role(actor, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only an administrator may erase a person's data."))
    with transaction.atomic():
        person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        if person.is_erased:
            return person
        retention = retention_of(person, today)
        if not retention.due:
            raise ValidationFailed(
                _("%(ref)s cannot be erased yet: %(reason)s")
                % {"ref": person.reference, "reason": retention.reason}
            )
        person.wrapped_key = ""
        person.encrypted_personal_data = ""
        person.personnummer_index = ""
        person.name_index = ""
        person.region = ""
        person.erased_at = timezone.now()
        person.save(
            update_fields=[
                "wrapped_key",
                "encrypted_personal_data",
                "personnummer_index",
                "name_index",
                "region",
                "erased_at",
            ]
        )
        person._personal_cache = {}
        shredded_payees = _shred_person_payees(person)
        record_event(
            action="beneficiary.erased",
            actor=actor,
            role=Role.ADMINISTRATOR,
            object_type="beneficiary",
            object_ref=person.reference,
            payload={
                "hold_until": retention.hold_until.isoformat() if retention.hold_until else None,
                "payees": shredded_payees,
            },
        )
    return person


def _shred_person_payees(person: Beneficiary) -> dict[str, Any]:
    """The person's own payee records go with them: the bank files that named their account
    are redacted first (while the payee's key can still find it), then the key and the
    nonces of the batches that paid them are destroyed (the nonce is what keeps a file's
    stored digest from giving the account back).

    Refused while bank files paid them but the payout folder is missing (they could not be
    redacted, and the key that finds the account is about to go). Files exported before the
    nonce have their stored digest blanked instead.

    Returns counts and file references for the erasure's audit event.
    """
    from accounting.models import Payee
    from accounting.payouts.redaction import (
        destroy_file_nonces,
        forget_legacy_file_digests,
        payout_folder_problem,
        redact_payee_from_bank_files,
    )

    payees = list(Payee.objects.select_for_update().filter(beneficiary=person).order_by("pk"))
    problem = payout_folder_problem([p.pk for p in payees])
    if problem:  # the whole erasure rolls back: nothing is destroyed
        raise ValidationFailed(problem)
    files: list[str] = []
    for payee in payees:
        files.extend(redact_payee_from_bank_files(payee))
    ids = [p.pk for p in payees]
    count = Payee.objects.filter(pk__in=ids).update(
        wrapped_key="", encrypted_personal_data="", account="", bic="", active=False
    )
    return {
        "count": count,
        "bank_files_redacted": sorted(set(files)),
        "legacy_file_digests_blanked": forget_legacy_file_digests(ids),
        "batch_nonces_destroyed": destroy_file_nonces(ids),
    }
