"""Payees and the validation of where money goes.

Bankgiro and Plusgiro numbers carry a Luhn check digit (python-stdnum ``luhn``); Swedish bank
accounts are checked against the clearing number's rules (``bankkonto``); IBANs by their
checksum and national rules (``schwifty``). Anything invalid is refused with a message that
says which number is wrong and why, before it can reach a batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import bankkonto
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn

from accounting.ledger import require_treasurer
from accounting.models import BOUND_APPROVER, Payee, PayeeKind, PaymentMethod
from audit.services import record_event
from core.crypto import DecryptionFailed
from core.exceptions import PermissionDenied, ValidationFailed
from core.inputs import clean_text, shown
from core.roles import Role, has_role
from fund.models import Beneficiary, Organisation
from fund.references import next_reference


@dataclass(frozen=True)
class Account:
    """A validated, normalised destination: method, account (compact), clearing, BIC."""

    method: str
    account: str
    clearing_number: str = ""
    bic: str = ""


def _digits(value: Any) -> str:
    return re.sub(r"[\s\-.]", "", value if isinstance(value, str) else "")


def validate_bankgiro(value: str) -> str:
    number = _digits(value)
    if not re.fullmatch(r"[0-9]{7,8}", number):
        raise ValidationFailed(
            _("The Bankgiro number “%(v)s” must have 7 or 8 digits.") % {"v": shown(value)}
        )
    if not luhn.is_valid(number):
        raise ValidationFailed(
            _("The Bankgiro number “%(v)s” has a wrong check digit.") % {"v": shown(value)}
        )
    return number


def validate_plusgiro(value: str) -> str:
    number = _digits(value)
    if not re.fullmatch(r"[0-9]{2,8}", number):
        raise ValidationFailed(
            _("The Plusgiro number “%(v)s” must have 2 to 8 digits.") % {"v": shown(value)}
        )
    if not luhn.is_valid(number):
        raise ValidationFailed(
            _("The Plusgiro number “%(v)s” has a wrong check digit.") % {"v": shown(value)}
        )
    return number


def validate_bank_account(clearing: str, number: str) -> tuple[str, str]:
    clearing_digits, account_digits = _digits(clearing), _digits(number)
    if not re.fullmatch(r"[0-9]+", clearing_digits) or not re.fullmatch(r"[0-9]+", account_digits):
        raise ValidationFailed(_("Clearing and account numbers are digits only."))
    try:
        bankkonto.validate(clearing_digits, account_digits)
    except bankkonto.BankkontoException as exc:
        raise ValidationFailed(
            _("The bank account %(c)s-%(a)s is not valid: %(why)s")
            % {"c": clearing_digits, "a": account_digits, "why": exc}
        ) from exc
    return clearing_digits, account_digits


def validate_iban(value: str, bic: str = "") -> tuple[str, str]:
    try:
        if not isinstance(value, str) or not value.isascii():
            raise SchwiftyException(_("an IBAN has only letters A-Z and digits"))
        iban = IBAN(value)
    except SchwiftyException as exc:
        raise ValidationFailed(
            _("The IBAN “%(v)s” is not valid: %(why)s") % {"v": shown(value), "why": exc}
        ) from exc
    bic = _digits(bic).upper()
    if bic and not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", bic):
        raise ValidationFailed(_("The BIC “%(v)s” is not valid.") % {"v": shown(bic)})
    return iban.compact, bic


def validate_account(
    method: str, account: str, *, clearing_number: str = "", bic: str = ""
) -> Account:
    """Check and normalise a destination; raises ``ValidationFailed`` with the reason."""
    if method == PaymentMethod.BANKGIRO:
        return Account(method, validate_bankgiro(account))
    if method == PaymentMethod.PLUSGIRO:
        return Account(method, validate_plusgiro(account))
    if method == PaymentMethod.BANK_ACCOUNT:
        clearing, number = validate_bank_account(clearing_number, account)
        return Account(method, number, clearing_number=clearing)
    if method == PaymentMethod.IBAN:
        iban, checked_bic = validate_iban(account, bic)
        return Account(method, iban, bic=checked_bic)
    raise ValidationFailed(_("Choose how the payee is paid."))


def payee_problems(payee: Payee) -> list[str]:
    """Re-check a stored payee before money goes to it; [] when it can be paid.

    Run when orders are scheduled, batched and exported, so a payee that is inactive, not
    yet approved by a second treasurer, or whose stored account does not validate (rows
    written around the services) stops the payout at each step.
    """
    if payee.is_erased:
        return [
            _(
                "Payee %(ref)s was a person whose data has been erased: the account is gone, so "
                "no bank file can name it any more. The ledger keeps the payment's references."
            )
            % {"ref": payee.reference}
        ]
    if not payee.active:
        return [_("Payee %(ref)s is not active.") % {"ref": payee.reference}]
    if payee.approved_by_id is None:
        return [
            _(
                "Payee %(ref)s is awaiting a second treasurer's approval; nothing can be paid "
                "to it before then."
            )
            % {"ref": payee.reference}
        ]
    try:
        payee.destination()
        approval_sealed = payee.approval_is_sealed
    except ValidationFailed as exc:
        return [f"{payee.reference}: {message}" for message in exc.messages]
    except DecryptionFailed:
        return [
            _("The bank details of payee %(ref)s cannot be decrypted.") % {"ref": payee.reference}
        ]
    if not approval_sealed:
        return [
            _(
                "Payee %(ref)s is marked approved, but the approval was not given by a second "
                "treasurer in Fundflow (the record was changed outside it). Nothing is paid to "
                "it; tell the administrator."
            )
            % {"ref": payee.reference}
        ]
    return []


@sensitive_variables()
def create_payee(
    *,
    actor: Any,
    kind: str,
    method: str,
    account: str,
    name: str = "",
    person_name: str = "",
    clearing_number: str = "",
    bic: str = "",
    organisation: Organisation | None = None,
    beneficiary: Beneficiary | None = None,
) -> Payee:
    """Register a payee. A person's name and bank details are stored encrypted only.

    The name is never written to a file; the account only into the bank file that pays it.

    The payee cannot be paid until another treasurer approves it (:func:`approve_payee`).
    A person payee names the person, so that erasing them erases it too.
    """
    require_treasurer(actor=actor, message=_("Only a treasurer may register payees."))
    if kind not in PayeeKind.values:
        raise ValidationFailed(_("Choose what kind of payee this is."))
    checked = validate_account(method, account, clearing_number=clearing_number, bic=bic)
    problems: list[str] = []
    # At most 70 characters: the name goes into the bank file's creditor name (Nm).
    name = " ".join(clean_text(name, problems, field=_("Name"), max_length=70).split())
    person_name = clean_text(person_name, problems, field=_("The person's name"), max_length=200)
    if problems:
        raise ValidationFailed(problems)
    if kind == PayeeKind.PERSON:
        if name:
            raise ValidationFailed(_("A person's name goes in the protected field, not the name."))
        if not person_name:
            raise ValidationFailed(_("The person's name is required."))
        if beneficiary is None:
            raise ValidationFailed(_("Choose the person this payee is."))
    elif not name:
        raise ValidationFailed(_("The supplier's or organisation's name is required."))
    if kind == PayeeKind.ORGANISATION and organisation is None:
        raise ValidationFailed(_("Choose the ombud's organisation this payee is."))
    person = kind == PayeeKind.PERSON
    with transaction.atomic():
        payee = Payee(
            reference=next_reference("P"),
            kind=kind,
            name=name,
            organisation=organisation,
            beneficiary=beneficiary if person else None,
            method=checked.method,
            account="" if person else checked.account,
            clearing_number="" if person else checked.clearing_number,
            bic="" if person else checked.bic,
            registered_by=actor,
        )
        if person:
            payee.set_personal_data(
                {
                    "name": person_name,
                    "account": checked.account,
                    "clearing_number": checked.clearing_number,
                    "bic": checked.bic,
                }
            )
        payee.save()
        record_event(
            action="payout.payee_registered",
            actor=actor,
            role=Role.TREASURER,
            object_type="payee",
            object_ref=payee.reference,
            payload={
                "payee": payee.pk,
                "kind": kind,
                "method": checked.method,
                "organisation": organisation.pk if organisation else None,
            },
        )
    return payee


@sensitive_variables()
def approve_payee(payee: Payee, *, actor: Any) -> Payee:
    """A second treasurer confirms a new payee, as a bank does for a new recipient.

    Whoever registered the payee may not approve it (the database checks the same).
    Approving an approved payee again changes nothing.
    """
    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(_("Only a treasurer may approve payees."))
    with transaction.atomic():
        payee = Payee.objects.select_for_update().get(pk=payee.pk)
        if payee.registered_by_id == actor.pk:
            raise PermissionDenied(
                _("You registered this payee; another treasurer must approve it.")
            )
        if payee.approved_by_id is not None:
            return payee
        if not payee.active:
            raise ValidationFailed(
                _("Payee %(ref)s is not active and cannot be approved.") % {"ref": payee.reference}
            )
        payee.approved_by = actor
        payee.approved_at = timezone.now()
        fields = ["approved_by", "approved_at"]
        if payee.kind == PayeeKind.PERSON and not payee.is_erased:
            # The approval goes into the token too: an UPDATE cannot forge it there.
            payee.set_personal_data({**payee.own_personal_data(), BOUND_APPROVER: actor.pk})
            fields.append("encrypted_personal_data")
        payee.save(update_fields=fields)
        record_event(
            action="payout.payee_approved",
            actor=actor,
            role=Role.TREASURER,
            object_type="payee",
            object_ref=payee.reference,
            payload={"payee": payee.pk, "registered_by": payee.registered_by_id},
        )
    return payee


def default_payee(organisation_id: int) -> Payee | None:
    """The ombud's organisation's payee, when it has exactly one active."""
    payees = list(Payee.objects.filter(organisation_id=organisation_id, active=True)[:2])
    return payees[0] if len(payees) == 1 else None


def deactivate_payee(payee: Payee, *, actor: Any) -> Payee:
    """Stop paying to a payee (e.g. the bank said the account is closed).

    Payees are never edited, so batches already sent keep what they paid to; register the
    corrected account as a new payee and schedule the case again.
    """
    require_treasurer(actor=actor, message=_("Only a treasurer may change payees."))
    with transaction.atomic():
        payee = Payee.objects.select_for_update().get(pk=payee.pk)
        if not payee.active:
            return payee
        payee.active = False
        payee.save(update_fields=["active"])
        record_event(
            action="payout.payee_deactivated",
            actor=actor,
            role=Role.TREASURER,
            object_type="payee",
            object_ref=payee.reference,
            payload={"payee": payee.pk},
        )
    return payee
