"""accounting.pain001: the pain.001.001.03 credit transfer file, one rule per test.

Every file here is built by ``build``, which validates it against the official XSD first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from accounting.models import PaymentMethod
from accounting.pain001 import NAMESPACE, Transfer, build, validate
from core.exceptions import ValidationFailed

NS = {"p": NAMESPACE}
CREATED = dt.datetime(2026, 3, 4, 10, 11, 12, 999999)
EXECUTION = dt.date(2026, 3, 6)


def transfer(**changes: object) -> Transfer:
    fields: dict[str, object] = {
        "end_to_end_id": "PO-2026-000001",
        "amount": Decimal("1500.00"),
        "creditor_name": "Stödorganisationen",
        "method": PaymentMethod.BANKGIRO,
        "account": "50501055",
        "clearing_number": "",
        "bic": "",
        "remittance": "A-2026-000001",
    }
    fields.update(changes)
    return Transfer(**fields)  # type: ignore[arg-type]


def document(*transfers: Transfer, nonce: str = "", message_id: str = "MSG-1") -> etree._Element:
    return etree.fromstring(
        build(
            message_id=message_id,
            created_at=CREATED,
            execution_date=EXECUTION,
            transfers=transfers or (transfer(),),
            nonce=nonce,
        )
    )


def text(root: etree._Element, path: str) -> list[str]:
    return [element.text for element in root.xpath(path, namespaces=NS)]


def test_pain001_control_sum_is_the_sum_of_the_amounts():
    root = document(transfer(amount=Decimal("100.25")), transfer(amount=Decimal("0.75")))
    assert text(root, "//p:GrpHdr/p:CtrlSum") == ["101.00"]
    assert text(root, "//p:PmtInf/p:CtrlSum") == ["101.00"]


def test_pain001_number_of_transactions_counts_the_transfers():
    root = document(transfer(), transfer(end_to_end_id="PO-2026-000002"))
    assert text(root, "//p:GrpHdr/p:NbOfTxs") == text(root, "//p:PmtInf/p:NbOfTxs") == ["2"]


def test_pain001_amounts_use_a_point_and_two_decimals_in_sek():
    root = document(transfer(amount=Decimal("1234567.5")))
    (amount,) = root.xpath("//p:InstdAmt", namespaces=NS)
    assert (amount.text, amount.get("Ccy")) == ("1234567.50", "SEK")


def test_pain001_without_payments_is_refused():
    with pytest.raises(ValidationFailed, match="at least one payment"):
        build(message_id="M", created_at=CREATED, execution_date=EXECUTION, transfers=[])


def test_pain001_creation_time_has_no_fraction_and_no_zone():
    assert text(document(), "//p:GrpHdr/p:CreDtTm") == ["2026-03-04T10:11:12"]


def test_pain001_requested_execution_date_is_the_given_date():
    assert text(document(), "//p:ReqdExctnDt") == ["2026-03-06"]


def test_pain001_payment_information_id_is_the_nonce_when_there_is_one():
    assert text(document(nonce="ab" * 16), "//p:PmtInfId") == ["ab" * 16]


def test_pain001_payment_information_id_is_the_message_id_without_a_nonce():
    assert text(document(message_id="MSG-7"), "//p:PmtInfId") == ["MSG-7"]


def test_pain001_end_to_end_id_and_instruction_id_are_the_order_reference():
    root = document()
    assert text(root, "//p:EndToEndId") == text(root, "//p:InstrId") == ["PO-2026-000001"]


def test_pain001_remittance_is_the_application_reference_only():
    assert text(document(), "//p:RmtInf/*") == ["A-2026-000001"]


def test_pain001_bankgiro_is_named_by_the_bgnr_scheme():
    root = document()
    assert text(root, "//p:CdtrAcct/p:Id/p:Othr/p:Id") == ["50501055"]
    assert text(root, "//p:CdtrAcct//p:SchmeNm/p:Prtry") == ["BGNR"]


def test_pain001_plusgiro_is_named_by_the_bban_code_by_default():
    root = document(transfer(method=PaymentMethod.PLUSGIRO, account="4473"))
    assert text(root, "//p:CdtrAcct//p:SchmeNm/p:Cd") == ["BBAN"]


def test_pain001_plusgiro_scheme_follows_the_bank_profile(settings):
    settings.ACCOUNTING_PAIN001 = {"PLUSGIRO_SCHEME": ("Prtry", "PGNR")}
    root = document(transfer(method=PaymentMethod.PLUSGIRO, account="4473"))
    assert text(root, "//p:CdtrAcct//p:SchmeNm/p:Prtry") == ["PGNR"]


def test_pain001_bank_account_carries_the_clearing_number_as_sesba_member():
    root = document(
        transfer(method=PaymentMethod.BANK_ACCOUNT, clearing_number="6000", account="123456789")
    )
    assert text(root, "//p:CdtrAgt//p:ClrSysId/p:Cd") == ["SESBA"]
    assert text(root, "//p:CdtrAgt//p:MmbId") == ["6000"]
    assert text(root, "//p:CdtrAcct/p:Id/p:Othr/p:Id") == ["6000123456789"]


def test_pain001_iban_goes_in_the_iban_element_with_the_bic_when_known():
    root = document(
        transfer(method=PaymentMethod.IBAN, account="DE89370400440532013000", bic="COBADEFF")
    )
    assert text(root, "//p:CdtrAcct/p:Id/p:IBAN") == ["DE89370400440532013000"]
    assert text(root, "//p:CdtrAgt/p:FinInstnId/p:BIC") == ["COBADEFF"]


def test_pain001_iban_without_a_bic_names_no_creditor_agent():
    root = document(transfer(method=PaymentMethod.IBAN, account="DE89370400440532013000"))
    assert root.xpath("//p:CdtrAgt", namespaces=NS) == []


def test_pain001_creditor_name_is_cut_to_70_characters():
    assert text(document(transfer(creditor_name="x" * 80)), "//p:Cdtr/p:Nm") == ["x" * 70]


def test_pain001_a_person_payee_without_a_name_has_an_empty_creditor():
    root = document(transfer(creditor_name=""))
    assert root.xpath("//p:Cdtr/p:Nm", namespaces=NS) == []
    assert len(root.xpath("//p:Cdtr", namespaces=NS)) == 1


def test_pain001_debtor_is_the_foundations_account_from_the_bank_profile(settings):
    settings.ACCOUNTING_PAIN001 = {"DEBTOR_IBAN": "SE4550000000058398257466"}
    assert text(document(), "//p:DbtrAcct/p:Id/p:IBAN") == ["SE4550000000058398257466"]


def test_pain001_unknown_payment_method_is_refused():
    with pytest.raises(ValidationFailed, match="Unknown payment method"):
        document(transfer(method="cheque"))


def test_pain001_a_message_id_longer_than_35_characters_fails_the_schema():
    with pytest.raises(ValidationFailed, match=r"pain\.001\.001\.03"):
        document(message_id="M" * 36)


def test_pain001_validate_reads_bytes_and_names_the_first_errors():
    with pytest.raises(ValidationFailed) as refused:
        validate(f'<Document xmlns="{NAMESPACE}"><Wrong/></Document>'.encode())
    assert any("line 1" in message for message in refused.value.messages)


def test_pain001_file_is_utf8_with_an_xml_declaration():
    data = build(
        message_id="M", created_at=CREATED, execution_date=EXECUTION, transfers=[transfer()]
    )
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Stödorganisationen".encode() in data
