"""ISO 20022 pain.001.001.03 credit transfer files for Swedish domestic SEK payouts.

The file is built with lxml and validated against the official XSD shipped in the ``sepaxml``
package before anyone may write it. The bank profile is configurable in settings
(``ACCOUNTING_PAIN001``, see :data:`DEFAULTS`); confirm it with the foundation's bank:

* Bankgiro: ``CdtrAcct/Id/Othr/Id`` digits, ``SchmeNm/Prtry`` = ``BGNR``;
* Plusgiro: ``CdtrAcct/Id/Othr/Id`` digits, scheme ``Cd`` ``BBAN`` (default) or ``Prtry``
  ``PGNR`` (``PLUSGIRO_SCHEME``);
* bank account: ``CdtrAcct/Id/Othr/Id`` clearing + account, ``SchmeNm/Cd`` = ``BBAN``, and
  the clearing number as ``CdtrAgt/FinInstnId/ClrSysMmbId`` (``SESBA``);
* IBAN: ``CdtrAcct/Id/IBAN`` (and ``CdtrAgt`` BIC when known).

Remittance is the application reference only (``RmtInf/Ustrd``); a person payee is named by
their payee reference, never by name.

``PmtInfId`` carries the batch's secret nonce (128 random bits as 32 hex digits; ``MsgId``
stays the message id). The bank does not pay by it and does not pass it to the creditor; it is
there so that the file's SHA-256, kept in the database and the audit log, cannot be recomputed
from the database alone for candidate accounts once a person is erased (see
``PaymentBatch.file_nonce``). A batch without a nonce (exported before it existed) uses its
message id, as it always did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import sepaxml
from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from accounting.models import PaymentMethod
from core.exceptions import ValidationFailed

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
XSD_PATH = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"

DEFAULTS: dict[str, Any] = {
    # The foundation's own account the payouts are drawn from.
    "DEBTOR_IBAN": "SE3250000000000058398250",
    "DEBTOR_BIC": "ESSESESS",
    # Initiating party id as agreed with the bank (default: the organisation number).
    "INITIATING_PARTY_ID": "",
    "INITIATING_PARTY_SCHEME": "BANK",
    # ("Cd", "BBAN") or ("Prtry", "PGNR"), bank-dependent.
    "PLUSGIRO_SCHEME": ("Cd", "BBAN"),
    "SERVICE_LEVEL": "NURG",
}


def profile() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "ACCOUNTING_PAIN001", {})}


@dataclass(frozen=True)
class Transfer:
    """One credit transfer as the bank file needs it; nothing more is written."""

    end_to_end_id: str
    amount: Decimal
    creditor_name: str
    method: str
    account: str
    clearing_number: str
    bic: str
    remittance: str


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _path(parent: etree._Element, *tags: str, text: str | None = None) -> etree._Element:
    for tag in tags[:-1]:
        parent = _sub(parent, tag)
    return _sub(parent, tags[-1], text)


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _creditor_account(tx: etree._Element, transfer: Transfer, plusgiro: tuple[str, str]) -> None:
    if transfer.method == PaymentMethod.BANK_ACCOUNT:
        agent = _path(tx, "CdtrAgt", "FinInstnId")
        member = _sub(agent, "ClrSysMmbId")
        _path(member, "ClrSysId", "Cd", text="SESBA")
        _sub(member, "MmbId", transfer.clearing_number)
    elif transfer.method == PaymentMethod.IBAN and transfer.bic:
        _path(tx, "CdtrAgt", "FinInstnId", "BIC", text=transfer.bic)
    if transfer.creditor_name:
        _path(tx, "Cdtr", "Nm", text=transfer.creditor_name[:70])
    else:
        _sub(tx, "Cdtr")
    account_id = _path(tx, "CdtrAcct", "Id")
    if transfer.method == PaymentMethod.IBAN:
        _sub(account_id, "IBAN", transfer.account)
        return
    other = _sub(account_id, "Othr")
    if transfer.method == PaymentMethod.BANKGIRO:
        _sub(other, "Id", transfer.account)
        _path(other, "SchmeNm", "Prtry", text="BGNR")
    elif transfer.method == PaymentMethod.PLUSGIRO:
        _sub(other, "Id", transfer.account)
        _path(other, "SchmeNm", plusgiro[0], text=plusgiro[1])
    elif transfer.method == PaymentMethod.BANK_ACCOUNT:
        _sub(other, "Id", transfer.clearing_number + transfer.account)
        _path(other, "SchmeNm", "Cd", text="BBAN")
    else:
        raise ValidationFailed(_("Unknown payment method."))


def build(
    *,
    message_id: str,
    created_at: dt.datetime,
    execution_date: dt.date,
    transfers: Sequence[Transfer],
    nonce: str = "",
) -> bytes:
    """The pain.001.001.03 document, validated; raises ``ValidationFailed`` if it is not."""
    if not transfers:
        raise ValidationFailed(_("A bank file needs at least one payment."))
    conf = profile()
    total = sum((t.amount for t in transfers), Decimal("0.00"))
    root = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.replace(microsecond=0, tzinfo=None).isoformat())
    _sub(header, "NbOfTxs", str(len(transfers)))
    _sub(header, "CtrlSum", _amount(total))
    party = _sub(header, "InitgPty")
    _sub(party, "Nm", settings.FOUNDATION_NAME[:70])
    party_other = _path(party, "Id", "OrgId", "Othr")
    _sub(
        party_other, "Id", conf["INITIATING_PARTY_ID"] or settings.FOUNDATION_ORGNR.replace("-", "")
    )
    _path(party_other, "SchmeNm", "Cd", text=conf["INITIATING_PARTY_SCHEME"])

    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", payment_information_id(message_id, nonce))
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "NbOfTxs", str(len(transfers)))
    _sub(info, "CtrlSum", _amount(total))
    _path(info, "PmtTpInf", "SvcLvl", "Cd", text=conf["SERVICE_LEVEL"])
    _sub(info, "ReqdExctnDt", execution_date.isoformat())
    _path(info, "Dbtr", "Nm", text=settings.FOUNDATION_NAME[:70])
    debtor_account = _sub(info, "DbtrAcct")
    _path(debtor_account, "Id", "IBAN", text=conf["DEBTOR_IBAN"])
    _sub(debtor_account, "Ccy", "SEK")
    _path(info, "DbtrAgt", "FinInstnId", "BIC", text=conf["DEBTOR_BIC"])
    plusgiro = tuple(conf["PLUSGIRO_SCHEME"])
    for transfer in transfers:
        tx = _sub(info, "CdtTrfTxInf")
        ids = _sub(tx, "PmtId")
        _sub(ids, "InstrId", transfer.end_to_end_id)
        _sub(ids, "EndToEndId", transfer.end_to_end_id)
        amount = _path(tx, "Amt", "InstdAmt", text=_amount(transfer.amount))
        amount.set("Ccy", "SEK")
        _creditor_account(tx, transfer, (plusgiro[0], plusgiro[1]))
        _path(tx, "RmtInf", "Ustrd", text=transfer.remittance)
    validate(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def payment_information_id(message_id: str, nonce: str) -> str:
    """The secret nonce keeps the file's digest from being rebuilt; without one (files from
    before it), the message id, so old files come out byte for byte as they were."""
    return nonce or message_id


def validate(document: etree._Element | bytes) -> None:
    """Raise ``ValidationFailed`` naming the first schema errors, if any."""
    if isinstance(document, bytes):
        document = etree.fromstring(document)
    checker = schema()
    if not checker.validate(document):
        errors = [f"line {e.line}: {e.message}" for e in list(checker.error_log)[:5]]
        raise ValidationFailed([_("The bank file does not follow pain.001.001.03:"), *errors])
