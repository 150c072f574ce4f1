"""The world the money-path state machine runs in, and its model of what happened outside.

The model holds only what the system cannot be trusted to say about itself: which files the
bank received (parsed from the exported bytes), what the bank answered for each payment, the
money each fund received, and who is entitled to read a person's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from lxml import etree

from accounting.commitments import set_budget, set_ceiling
from accounting.ledger import fiscal_year_for, record_income
from accounting.models import Ceiling
from accounting.payees import approve_payee, create_payee
from fund.models import Ombud
from tests.factories import FundFactory, OmbudFactory, UserFactory

PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"

#: Everyone who may try a step: the right actors and the wrong ones.
ACTORS = (
    "ombud",
    "ombud2",
    "officer",
    "officer2",
    "decider",
    "decider2",
    "treasurer",
    "treasurer2",
    "treasurer3",
    "auditor",
    "admin",
)

#: Three people by personnummer; the third has a protected identity.
PERSONS = (("198112189876", False), ("197001010011", False), ("199505050022", True))


@dataclass(frozen=True)
class FundRules:
    income: Decimal
    budget: Decimal | None  # None: limited by its balance
    max_per_item: Decimal
    max_per_person_year: Decimal
    two_signature_threshold: Decimal


#: Small limits, so the per-person limit, two signatures and the ceilings are really reached.
FUNDS = {
    "balance": FundRules(
        income=Decimal("16000"),
        budget=None,
        max_per_item=Decimal("8000"),
        max_per_person_year=Decimal("9000"),
        two_signature_threshold=Decimal("4000"),
    ),
    "budget": FundRules(
        income=Decimal("40000"),
        budget=Decimal("12000"),
        max_per_item=Decimal("8000"),
        max_per_person_year=Decimal("7000"),
        two_signature_threshold=Decimal("5000"),
    ),
}

#: Valid Bankgiro numbers for the payees registered during a run.
BANKGIRO = ("5678-1230", "5050-1055")


@dataclass(frozen=True)
class WorldIds:
    """Primary keys of the world built once per test; each example loads fresh objects."""

    users: dict[str, int]
    funds: dict[str, int]
    ombud: dict[str, int]
    handlers: dict[str, frozenset[str]]  # fund -> names of the users working in it


def build_world() -> WorldIds:
    """Users per role (two of each that needs four eyes), two funds with income, one payee."""
    users: dict[str, Any] = {
        "officer": UserFactory(roles=["officer"]),
        "officer2": UserFactory(roles=["officer"]),
        "decider": UserFactory(roles=["decision_maker"]),
        "decider2": UserFactory(roles=["decision_maker"]),
        "treasurer": UserFactory(roles=["treasurer"]),
        "treasurer2": UserFactory(roles=["treasurer"]),
        "treasurer3": UserFactory(roles=["treasurer"]),
        "auditor": UserFactory(roles=["auditor"]),
        "admin": UserFactory(roles=["administrator"]),
    }
    ombud = {"ombud": OmbudFactory(), "ombud2": OmbudFactory()}
    for name, each in ombud.items():
        users[name] = each.user
    handlers = {
        "balance": frozenset({"officer", "officer2", "decider", "decider2"}),
        "budget": frozenset({"officer", "decider", "decider2"}),
    }
    funds: dict[str, Any] = {}
    treasurer = users["treasurer"]
    for code, rules in FUNDS.items():
        fund = FundFactory(
            code=code,
            name=f"Fund {code}",
            max_per_item=rules.max_per_item,
            max_per_person_year=rules.max_per_person_year,
            two_signature_threshold=rules.two_signature_threshold,
        )
        fund.handlers.add(*(users[name] for name in handlers[code]))
        record_income(
            fund, rules.income, kind="donation", actor=treasurer, reference=f"IN-{code}-1"
        )
        if rules.budget is not None:
            set_ceiling(fund, ceiling=Ceiling.BUDGET, actor=treasurer)
            set_budget(
                fund,
                year=fiscal_year_for(timezone.localdate()),
                amount=rules.budget,
                actor=treasurer,
            )
        funds[code] = fund
    for each in ombud.values():
        payee = create_payee(
            actor=treasurer,
            kind="organisation",
            name="Socialtjänsten",
            method="bankgiro",
            account=BANKGIRO[0],
            organisation=each.organisation,
        )
        approve_payee(payee, actor=users["treasurer2"])
    return WorldIds(
        users={name: user.pk for name, user in users.items()},
        funds={code: fund.pk for code, fund in funds.items()},
        ombud={name: each.pk for name, each in ombud.items()},
        handlers=handlers,
    )


def load_users(ids: WorldIds) -> dict[str, User]:
    """Fresh user objects (no cached ombud status from an earlier, rolled-back example)."""
    by_pk = User.objects.select_related("ombud__organisation").in_bulk(ids.users.values())
    return {name: by_pk[pk] for name, pk in ids.users.items()}


# --------------------------------------------------------------------------------------
# The bank
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """One payment in a file the bank received: our end-to-end id and the amount asked."""

    order_id: int
    amount: Decimal


def read_pain001(content: bytes) -> tuple[str, list[Transfer]]:
    """What the bank reads in a pain.001 file: its message id and its payments."""
    root = etree.fromstring(content)
    ns = {"p": PAIN001}
    message_id = root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns) or ""
    transfers = [
        Transfer(
            order_id=int((tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) or "")[3:]),
            amount=Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=ns) or "0"),
        )
        for tx in root.iterfind(".//p:CdtTrfTxInf", ns)
    ]
    return message_id, transfers


#: What the bank finally did with a payment.
PAID, NOT_PAID = "paid", "not_paid"


@dataclass
class Bank:
    """The files the bank received (by message id) and what it did with each payment.

    The bank decides a payment's fate once (paid, or not paid: rejected or returned) and
    repeats it in later answers; until then it may answer "pending" any number of times.
    ``paid_amount`` is what the bank really booked, which a faulty bank answer may misstate.
    """

    received: dict[str, list[Transfer]] = field(default_factory=dict)
    fate: dict[int, str] = field(default_factory=dict)
    paid_amount: dict[int, Decimal] = field(default_factory=dict)

    def receive(self, content: bytes) -> None:
        message_id, transfers = read_pain001(content)
        self.received.setdefault(message_id, transfers)

    def transfers(self) -> list[Transfer]:
        return [t for transfers in self.received.values() for t in transfers]

    def decide(self, order_id: int, wanted: str) -> str:
        """The payment's fate: the one decided earlier, else ``wanted`` (which may be pending)."""
        if order_id in self.fate:
            return self.fate[order_id]
        if wanted in (PAID, NOT_PAID):
            self.fate[order_id] = wanted
        return wanted

    def in_flight(self, transfer: Transfer) -> bool:
        """Money the bank paid or may still pay for this transfer."""
        return self.fate.get(transfer.order_id) != NOT_PAID


def pain002(message_id: str, answers: list[tuple[int, str, str]]) -> bytes:
    """A pain.002.001.03 status report: (order id, status, reason code) per payment."""
    txs = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>PO-{order_id}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>" if code else "")
        + "</TxInfAndSts>"
        for order_id, status, code in answers
    )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">'
        "<CstmrPmtStsRpt><GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-11-23T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId></OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{message_id}</OrgnlPmtInfId>{txs}"
        "</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()


@dataclass(frozen=True)
class CamtTx:
    """One transaction of a camt.054 entry: the order, the amount booked, a return code."""

    order_id: int
    amount: Decimal
    currency: str = "SEK"
    returned: str = ""


def camt054(entries: list[tuple[str, list[CamtTx]]], date: str) -> bytes:
    """A camt.054 debit notification: (status element, transactions) per entry.

    The status element is written as given, e.g. ``<Sts>BOOK</Sts>`` or
    ``<Sts><Cd>PDNG</Cd></Sts>``; the entry's amount is the sum of its transactions'.
    """
    body = []
    for status, txs in entries:
        total = sum((tx.amount for tx in txs), Decimal("0"))
        currency = txs[0].currency if len({tx.currency for tx in txs}) == 1 else "SEK"
        details = "".join(
            f"<TxDtls><Refs><EndToEndId>PO-{tx.order_id}</EndToEndId></Refs>"
            f"<AmtDtls><TxAmt><Amt Ccy='{tx.currency}'>{tx.amount}</Amt></TxAmt></AmtDtls>"
            + (f"<RtrInf><Rsn><Cd>{tx.returned}</Cd></Rsn></RtrInf>" if tx.returned else "")
            + "</TxDtls>"
            for tx in txs
        )
        body.append(
            f"<Ntry><Amt Ccy='{currency}'>{total}</Amt><CdtDbtInd>DBIT</CdtDbtInd>{status}"
            f"<BookgDt><Dt>{date}</Dt></BookgDt><NtryDtls>{details}</NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>C1</MsgId><CreDtTm>2026-11-23T10:00:00</CreDtTm>"
        f"</GrpHdr><Ntfctn><Id>N1</Id>{''.join(body)}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


# --------------------------------------------------------------------------------------
# Who may read a person's data
# --------------------------------------------------------------------------------------


#: Why a read is not allowed.
REVOKED_OMBUD, PROTECTED, NOT_ON_CASE = "revoked ombud", "protected identity", "not on the case"
#: Why no read is allowed any more: the person was erased (issue #14).
ERASED = "erased"


@dataclass
class Entitlement:
    """Need-to-know as the issue states it, kept apart from the code that enforces it.

    A case's ombud while not revoked; the fund's officers and decision-makers, except for a
    person with a protected identity, whom only the case's ombud and a holder of a logged grant
    (given by a decision-maker, still working in the fund) may see.
    """

    handlers: dict[str, frozenset[str]]
    revoked: set[int] = field(default_factory=set)  # ombud ids
    grants: set[tuple[int, str]] = field(default_factory=set)  # (application id, user name)

    def refusal(self, name: str, user: User, application: Any, protected: bool) -> str:
        """Why ``name`` may not read the case's person ("" when they may)."""
        ombud: Ombud | None = getattr(user, "ombud", None)
        if ombud is not None and ombud.pk == application.ombud_id:
            return REVOKED_OMBUD if ombud.pk in self.revoked else ""
        if name not in self.handlers[application.fund.code]:
            return NOT_ON_CASE
        if protected:
            return "" if (application.pk, name) in self.grants else PROTECTED
        return ""
