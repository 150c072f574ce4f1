"""Malformed bank files (pain.002, camt.054): refused whole, every problem named, nothing booked.

A sent batch holds two payment orders. Each file below is the bank's answer gone wrong; the
import must refuse it with the reasons and leave every order, voucher and audit event as it
was — one bad transaction never lets the good ones through alone. The XML parser must not
expand entities ("billion laughs") nor read files or URLs (XXE).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from lxml import etree

from accounting import bank_status
from accounting.models import OrderStatus, PaymentOrder
from core.exceptions import ValidationFailed
from tests.accounting.bank_files import camt054, pain002
from tests.bad_input.conftest import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("bad_input")]

PAIN = b'xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "ha">'
    + b"".join(
        f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(9)
    )
    + b"]>"
)


@dataclass
class Sent:
    """A sent batch and its two orders (100 and 200 kr)."""

    batch: Any
    first: PaymentOrder
    second: PaymentOrder

    def pain(self, *statuses: tuple[PaymentOrder, tuple[str, str]]) -> bytes:
        return pain002(self.batch, list(statuses))

    def settled(self) -> bytes:
        return self.pain((self.first, ("ACSC", "")), (self.second, ("ACSC", "")))


@pytest.fixture
def sent(world) -> Sent:  # type: ignore[no-untyped-def]
    apps = []
    for amount in ("100", "200"):
        app = world.to_approved(world.new_application(amount))
        apps.append(world.run(app, "schedule_payout", world.treasurer))
    batch = world.send_payouts(*apps)
    first, second = (PaymentOrder.objects.get(application=app) for app in apps)
    return Sent(batch, first, second)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-XXE-TOKEN")
    return path


@dataclass(frozen=True)
class BadFile:
    tried: str
    build: Callable[[Sent, Path], bytes]
    expect: str


def _xxe(s: Sent, secret: Path) -> bytes:
    doctype = f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
    return s.settled().replace(b"S1</MsgId>", b"&x;</MsgId>").replace(b"?>", b"?>" + doctype, 1)


def _laughs(s: Sent, _secret: Path) -> bytes:
    body = s.settled().split(b"?>", 1)[1]
    return LAUGHS + body.replace(b"S1</MsgId>", b"&j;</MsgId>")


def _camt_bad(s: Sent, old: bytes, new: bytes) -> bytes:
    return camt054(
        [(s.first, timezone.localdate(), ""), (s.second, timezone.localdate(), "")]
    ).replace(old, new, 1)


BAD_FILES = [
    BadFile("an empty file", lambda s, _: b"", "The bank file is empty."),
    BadFile("a file that is not XML", lambda s, _: b"PO-1;ACSC\nPO-2;ACSC\n", "is not XML"),
    BadFile(
        "a PNG image instead of XML", lambda s, _: b"\x89PNG\r\n\x1a\n" + bytes(64), "is not XML"
    ),
    BadFile(
        "a pain.002 cut off in the middle",
        lambda s, _: s.settled()[: len(s.settled()) // 2],
        "is not XML",
    ),
    BadFile(
        "pain.002 of another version (pain.002.001.10)",
        lambda s, _: s.settled().replace(b"pain.002.001.03", b"pain.002.001.10"),
        "neither a pain.002.001.03 status report nor a camt.054",
    ),
    BadFile(
        "a pain.002 without namespace",
        lambda s, _: s.settled().replace(b" " + PAIN, b""),
        "neither a pain.002.001.03 status report nor a camt.054",
    ),
    BadFile(
        "a status report for a batch that is not ours",
        lambda s, _: s.settled().replace(s.batch.message_id.encode(), b"OTHER-BANK-BATCH", 1),
        "which is no batch of ours",
    ),
    BadFile(
        "an unknown payment reference (PO-999999) next to a good one",
        lambda s, _: s.settled().replace(f"PO-{s.second.pk}<".encode(), b"PO-999999<"),
        "“PO-999999” is no payment order of batch",
    ),
    BadFile(
        "a reference that is no order of ours (INV-2026-17)",
        lambda s, _: s.settled().replace(f"PO-{s.second.pk}<".encode(), b"INV-2026-17<"),
        "“INV-2026-17” is no payment order of batch",
    ),
    BadFile(
        "two statuses for the same order (ACSC and RJCT)",
        lambda s, _: s.pain((s.first, ("ACSC", "")), (s.first, ("RJCT", "AC04"))),
        "is named twice",
    ),
    BadFile(
        "a status that is no code (<TxSts>paid!</TxSts>)",
        lambda s, _: s.pain((s.first, ("paid!", "")), (s.second, ("ACSC", ""))),
        "the status “paid!” is not a code",
    ),
    BadFile(
        "a reason code of 40 characters",
        lambda s, _: s.pain((s.first, ("RJCT", "AC04" * 10)), (s.second, ("ACSC", ""))),
        "is not a code",
    ),
    BadFile(
        "XML entity expansion (“billion laughs”, 10^9 times “ha”)",
        _laughs,
        "declares a DTD",
    ),
    BadFile(
        "an external entity reading a local file (XXE, file://…/secret.txt)",
        _xxe,
        "declares a DTD",
    ),
    BadFile(
        "an external DTD from the network (<!DOCTYPE … SYSTEM http://…>)",
        lambda s, _: s.settled().replace(
            b"?>", b'?><!DOCTYPE Document SYSTEM "http://127.0.0.1:9/evil.dtd">', 1
        ),
        "declares a DTD",
    ),
    BadFile(
        "camt.054 with a booking date that is no date (2026-13-45)",
        lambda s, _: _camt_bad(
            s, f"<Dt>{timezone.localdate()}</Dt>".encode(), b"<Dt>2026-13-45</Dt>"
        ),
        "the booking date “2026-13-45” is not a date",
    ),
    BadFile(
        "camt.054 booking another amount than the order's (999.00 for 100.00)",
        lambda s, _: _camt_bad(s, b">100.00</Amt>", b">999.00</Amt>"),
        "the bank booked “999.00 SEK”",
    ),
    BadFile(
        "camt.054 naming an order that was never sent (PO-999999)",
        lambda s, _: _camt_bad(s, f"PO-{s.second.pk}<".encode(), b"PO-999999<"),
        "PO-999999 is no payment order sent to the bank",
    ),
]


@pytest.mark.parametrize("bad", BAD_FILES, ids=[b.tried for b in BAD_FILES])
def test_malformed_bank_files_are_refused_whole(world, sent, secret_file, evidence, bad):  # type: ignore[no-untyped-def]
    """Malformed bank files are refused with the reasons, and nothing is booked"""
    content = bad.build(sent, secret_file)
    before = snapshot()
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as refused:
        bank_status.import_bank_file(content, actor=world.treasurer)
    seconds = time.monotonic() - started

    text = " ".join(refused.value.messages)
    assert bad.expect in text
    assert "TOP-SECRET" not in text
    assert snapshot() == before
    assert set(PaymentOrder.objects.values_list("status", flat=True)) == {OrderStatus.SCHEDULED}
    assert seconds < 2, "refused at once, without expanding anything"
    evidence.row(
        tried=f"bank file: {bad.tried}",
        outcome=f"ValidationFailed: “{text[:240]}”; no order, voucher or audit event changed",
    )


def test_a_good_bank_file_after_the_bad_ones_books_both_orders(world, sent, evidence):  # type: ignore[no-untyped-def]
    """The same batch's correct pain.002 is still imported in full"""
    report = bank_status.import_bank_file(sent.settled(), actor=world.treasurer)
    assert (report.paid, report.failed, report.unknown) == (2, 0, [])
    evidence.row(tried="the correct pain.002 for the batch", outcome="accepted: 2 orders paid")


def test_camt054_debits_that_are_not_ours_are_counted_not_booked(world, sent, evidence):  # type: ignore[no-untyped-def]
    """camt.054 debits with other references are other payments of the account: counted"""
    today = timezone.localdate()
    content = camt054([(sent.first, today, "")]).replace(
        b"</Ntfctn>",
        b"<Ntry><Amt Ccy='SEK'>50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>"
        b"<NtryDtls><TxDtls><Refs><EndToEndId>BANKFEE-11</EndToEndId></Refs></TxDtls>"
        b"</NtryDtls></Ntry></Ntfctn>",
    )
    report = bank_status.import_bank_file(content, actor=world.treasurer)
    assert (report.paid, report.unknown) == (1, ["BANKFEE-11"])
    evidence.row(
        tried="camt.054 with our payment and a bank fee (reference BANKFEE-11)",
        outcome="accepted: PO paid; BANKFEE-11 reported as not matched, nothing booked for it",
    )


def test_the_parser_expands_no_entity_and_reads_no_file(secret_file, evidence):  # type: ignore[no-untyped-def]
    """The bank-file parser settings: no DTD, no entity expansion, no network, no huge trees"""
    options = bank_status.SAFE_PARSER_OPTIONS
    assert options == {
        "resolve_entities": False,
        "load_dtd": False,
        "dtd_validation": False,
        "no_network": True,
        "huge_tree": False,
    }
    parser = etree.XMLParser(**options)
    xxe = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret_file}">]><r>&x;</r>'.encode()
    assert b"TOP-SECRET" not in etree.tostring(etree.fromstring(xxe, parser))
    started = time.monotonic()
    try:
        expanded = len(etree.tostring(etree.fromstring(LAUGHS + b"<r>&j;</r>", parser)))
    except etree.XMLSyntaxError as exc:  # libxml2's own amplification limit
        assert "amplification" in str(exc)
        expanded = 0
    assert expanded < 1000 and time.monotonic() - started < 1
    evidence.row(
        tried="lxml parser with the bank-file settings on an XXE and a billion-laughs document",
        outcome="the local file is not read; the entities are not expanded (libxml2 stops at "
        "its amplification limit, < 1 s)",
    )


def test_the_bank_status_command_names_the_problem_and_books_nothing(
    world, sent, tmp_path, evidence
):  # type: ignore[no-untyped-def]
    """The bank_status command refuses a PNG given as the bank file, in words"""
    path = tmp_path / "pain002.xml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        call_command("bank_status", file=str(path), user=world.treasurer.username)
    assert "is not XML" in str(refused.value)
    assert snapshot() == before
    evidence.row(
        tried="manage.py bank_status --file scan.png (a PNG image given as the bank file)",
        outcome=f"CommandError “{str(refused.value)[:160]}”; nothing booked",
    )
