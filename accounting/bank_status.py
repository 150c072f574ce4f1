"""Reading the bank's answer: pain.002 status reports and camt.054 debit notifications.

Transactions are matched by end-to-end id (``PO-<order id>``) within the file the report is
for (pain.002) or within exported files (camt.054). A report about a batch whose file was never
exported is refused: the bank cannot answer for a file it never had.

* pain.002.001.03: ``ACSC`` (settled) books the order as paid; ``RJCT`` fails it with the
  bank's reason code (e.g. ``AC04`` closed account); other statuses (``ACCP``, ``ACTC``,
  ``PDNG`` …) are only counted. A group status ``RJCT`` without transaction details rejects
  every order of the file.
* camt.054: only an entry whose status is ``BOOK`` (``<Sts>BOOK</Sts>`` in .001.02,
  ``<Sts><Cd>BOOK</Cd></Sts>`` in .001.08 and later) moves money; any other status (``PDNG``,
  ``INFO``, none) is reported and left as it is. A booked debit pays its orders on the booking
  date; a transaction with return information (``RtrInf/Rsn/Cd``) fails an unpaid order with
  that code. Each transaction's amount and currency must be its order's, and the entry's
  amount the sum of its transactions. References that are not ours (``PO-…``) are other
  debits of the account and are only counted as not matched.
* The books follow the bank: money paid for an order we had marked failed or void, or money
  returned for an order booked as paid, is booked as it happened and listed as a bank
  exception for a treasurer to resolve (:mod:`accounting.bank_exceptions`) — the rest of the
  file is imported as usual.

A file is read whole before anything is booked: when anything in it is wrong — not XML, a
DTD, another message type or version, a reference to an order the file cannot be about, an
order named twice, a status or reason that is no code, a date that is no date, an amount that
is not the order's — nothing is imported and every problem is listed. A file that passes is
booked in bounded transactions (see ``_apply``). Importing the same file again changes
nothing: paid and failed orders are skipped.

The XML parser reads no DTD, expands no entity and fetches nothing from the network or the
disk (``SAFE_PARSER_OPTIONS``); a document that declares a DTD at all is refused, so neither
"billion laughs" entity expansion nor external entities (XXE) can do anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from lxml import etree

from accounting.bank_exceptions import record_bank_exception
from accounting.ledger import booking_problems, lock_voucher_counters
from accounting.models import (
    BankExceptionKind,
    BatchStatus,
    OrderStatus,
    PaymentBatch,
    PaymentOrder,
    VoucherSeries,
)
from accounting.payouts.access import require_treasurer
from accounting.payouts.batches import mark_sent
from accounting.payouts.settlement import BANK_REASONS, confirm_paid, locked_orders, reject_orders
from audit.services import record_event
from core.exceptions import ValidationFailed, WorkflowError
from core.inputs import MAX_ID, shown
from core.observability import bank_answer_read

PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CAMT054 = "urn:iso:std:iso:20022:tech:xsd:camt.054."
SETTLED = {"ACSC"}
REJECTED = {"RJCT"}
#: ISO 20022 status and reason codes: four capitals or digits.
CODE = re.compile(r"[A-Z0-9]{4}", re.ASCII)
ORDER_REFERENCE = re.compile(r"PO-([0-9]{1,19})", re.ASCII)
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

#: No DTD loaded or validated, no entity expanded, no network, no huge documents.
SAFE_PARSER_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "load_dtd": False,
    "dtd_validation": False,
    "no_network": True,
    "huge_tree": False,
}


#: "<!DOCTYPE" as UTF-8 and UTF-16 bytes: a bank file never has one.
DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


#: What the import did with one payment the file names (``BankFileEntry.result``).
BOOKED = "booked"  # booked as the bank said: paid (or failed, see REFUSED)
REFUSED = "refused"  # the bank rejected or returned it: the order failed
EXCEPTION = "exception"  # contradicts our books: a bank exception for a treasurer
PENDING = "pending"  # not booked by the bank yet (a status only): left as it is
NOT_MATCHED = "not_matched"  # not one of our orders (another debit of the account)
UNCHANGED = "unchanged"  # already booked (a file imported again): nothing changed
ENTRY_RESULTS = (BOOKED, REFUSED, EXCEPTION, PENDING, NOT_MATCHED, UNCHANGED)

#: The workflow's failure codes in words (the bank's own text stays with the bank file).
FAILURE_WORDS = {
    "account_closed": gettext_lazy("The account is closed"),
    "wrong_account": gettext_lazy("Wrong account"),
    "rejected_by_bank": gettext_lazy("Rejected by the bank"),
}


@dataclass(frozen=True)
class BankFileEntry:
    """One payment the bank file names and what the import did with it, for people."""

    order: str
    result: str
    code: str = ""
    reason: str = ""
    #: Where the file named it (entries are listed in the file's order).
    position: int = 0


@dataclass
class StatusReport:
    batch: PaymentBatch | None
    paid: int = 0
    failed: int = 0
    pending: int = 0
    unknown: list[str] = field(default_factory=list)
    #: Entries not booked by the bank, as "PO-17: PDNG" (left as they are).
    not_booked: list[str] = field(default_factory=list)
    #: Bank exceptions opened by this file, as "PO-17: paid_after_failure".
    exceptions: list[str] = field(default_factory=list)
    #: "pain.002" or "camt.054".
    kind: str = ""
    sha256: str = ""
    #: Each payment the file names, with its result (see ``ENTRY_RESULTS``).
    entries: list[BankFileEntry] = field(default_factory=list)
    #: Batches (ids) the file shows the bank has: whatever it says of them, it received them.
    acknowledged: set[int] = field(default_factory=set)

    def note(
        self, order: str, result: str, code: str = "", reason: str = "", position: int = 0
    ) -> None:
        self.entries.append(BankFileEntry(order, result, code, str(reason), position))


def _failure_words(code: str) -> str:
    return str(FAILURE_WORDS[BANK_REASONS.get(code, "rejected_by_bank")])


def _booked_words(date: dt.date | None) -> str:
    return _("Booked as paid on %(date)s.") % {"date": date or timezone.localdate()}


def _pending_words(status: str) -> str:
    return _("The bank reports the status %(code)s; nothing is booked yet.") % {
        "code": status or "-"
    }


@dataclass(frozen=True)
class Outcome:
    """What the bank said about one order: ``paid`` or ``failed``, with what it moved."""

    order: PaymentOrder
    outcome: str
    code: str = ""
    date: dt.date | None = None
    #: The amount the bank moved (camt.054), or None when it only reported a status.
    amount: Decimal | None = None
    #: Where in which file this was said, so an exception is opened once per entry.
    source: str = ""
    #: True when money really moved (a booked camt.054 entry), not just a status.
    money_moved: bool = False
    #: Where the file named it (see ``BankFileEntry.position``).
    position: int = 0


def _parse(content: bytes) -> Any:
    if not isinstance(content, bytes):
        raise ValidationFailed(_("The bank file must be read as bytes."))
    limit = int(settings.UPLOAD_MAX_BYTES)
    if len(content) > limit:
        raise ValidationFailed(
            _("The bank file is %(size)s; at most %(max)s is read.")
            % {"size": filesizeformat(len(content)), "max": filesizeformat(limit)}
        )
    if not content.strip():
        raise ValidationFailed(_("The bank file is empty."))
    dtd = _("The bank file declares a DTD (<!DOCTYPE …>); bank files never do, so it is not read.")
    if any(marker in content for marker in DOCTYPE_MARKERS):
        raise ValidationFailed(dtd)  # refused before the parser sees any declaration
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(**SAFE_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed(
            _("The bank file is not XML: %(e)s") % {"e": shown(exc, 160)}
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ValidationFailed(dtd)
    return root


def _text(element: Any, path: str, ns: str) -> str:
    found = element.find(path, {"p": ns}) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _order_id(end_to_end: str) -> int | None:
    """The order id in one of our end-to-end ids (``PO-17``), or None for another reference."""
    match = ORDER_REFERENCE.fullmatch(end_to_end)
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number <= MAX_ID else None


def _name(tag: Any) -> str:
    return shown(tag if isinstance(tag, str) else "?", 120)


def _refuse(problems: list[str]) -> None:
    if problems:
        raise ValidationFailed(
            [
                ngettext(
                    "Nothing was imported from the bank file: %(n)s problem.",
                    "Nothing was imported from the bank file: %(n)s problems.",
                    len(problems),
                )
                % {"n": len(problems)}
            ]
            + problems[:50]
            + ([_("… and %(n)s more.") % {"n": len(problems) - 50}] if len(problems) > 50 else [])
        )


#: Payments booked per transaction once a file has passed its checks. Every transaction that
#: appends to the audit log updates its head row, and PostgreSQL keeps each version of that row
#: until the transaction ends: reading the head walks all of them, so a whole 5,000-payment
#: file in one transaction cost time growing with the square of its size. Bounded transactions
#: keep the cost per payment flat.
BOOKING_CHUNK = 250


def _apply(report: StatusReport, outcomes: list[Outcome], actor: Any) -> StatusReport:
    """Book the outcomes of a file that passed every check; contradictions become bank
    exceptions.

    All or nothing where it matters: a file with any problem books nothing (checked before
    this). A checked file is booked in transactions of :data:`BOOKING_CHUNK` payments; should
    the import stop half-way, importing the same file again books the rest (paid and failed
    orders are skipped), and each case moves on in the transaction that settles its last order.
    """
    today = timezone.localdate()
    _refuse(booking_problems(said.date or today for said in outcomes))
    _acknowledge(report, actor)
    for start in range(0, len(outcomes), BOOKING_CHUNK):
        booked = report.paid + report.failed + len(report.exceptions)
        try:
            _apply_chunk(report, outcomes[start : start + BOOKING_CHUNK], actor)
        except WorkflowError as exc:
            if not booked:
                raise
            raise ValidationFailed(
                [
                    ngettext(
                        "%(n)s payment of this bank file was booked before the import stopped; "
                        "import the same file again to book the rest.",
                        "%(n)s payments of this bank file were booked before the import "
                        "stopped; import the same file again to book the rest.",
                        booked,
                    )
                    % {"n": booked},
                    *exc.messages,
                ]
            ) from exc
    report.entries.sort(key=lambda entry: entry.position)
    bank_answer_read(
        {
            "paid": report.paid,
            "rejected": report.failed,
            "not_booked": report.pending,
            "unmatched": len(report.unknown),
            "exception": len(report.exceptions),
        }
    )
    return report


def _acknowledge(report: StatusReport, actor: Any) -> None:
    """Note, once per batch, that the bank has its file: it is then sent, and no treasurer
    may declare it void (its orders would be paid again from a new file)."""
    for batch_id in sorted(report.acknowledged):
        with transaction.atomic():
            batch = PaymentBatch.objects.select_for_update().get(pk=batch_id)
            if batch.bank_acknowledged_at is not None:
                continue
            batch.bank_acknowledged_at = timezone.now()
            batch.save(update_fields=["bank_acknowledged_at"])
            record_event(
                action="payout.batch_acknowledged",
                actor=actor,
                object_type="payment_batch",
                object_ref=batch.message_id,
                payload={"batch": batch.pk, "file": report.kind, "sha256": report.sha256},
            )
            if batch.status == BatchStatus.APPROVED and batch.exported_at is not None:
                mark_sent(batch, actor=actor, by_bank_file=True)


def _apply_chunk(report: StatusReport, outcomes: list[Outcome], actor: Any) -> None:
    """Book some outcomes in one transaction.

    Orders still scheduled are booked in groups (one service call per outcome, reason and
    date), so a large file costs a few calls, not one per payment; the rare contradictions
    with our own records are handled one by one.
    """
    with transaction.atomic():
        ids = [o.order.pk for o in outcomes]
        locked = {o.pk: o for o in locked_orders(PaymentOrder.objects.filter(pk__in=ids))}
        # The counters before anything appends to the audit log (the lock order).
        today = timezone.localdate()
        lock_voucher_counters(
            {said.date or today for said in outcomes},
            (VoucherSeries.PAYOUT, VoucherSeries.GRANTS),
        )
        groups: dict[tuple[str, str, dt.date | None], list[PaymentOrder]] = {}
        for said in outcomes:
            order = locked[said.order.pk]
            if order.status == OrderStatus.SCHEDULED:
                groups.setdefault((said.outcome, said.code, said.date), []).append(order)
            else:
                _contradiction(report, order, said, actor)
        for (outcome, code, date), orders in sorted(groups.items(), key=lambda g: str(g[0])):
            if outcome == "paid":
                report.paid += confirm_paid(orders, actor=actor, date=date, by_bank=True)
            else:
                report.failed += reject_orders(orders, actor=actor, code=code)
        for said in outcomes:
            if locked[said.order.pk].status == OrderStatus.SCHEDULED:
                _note_booked(report, said)


def _note_booked(report: StatusReport, said: Outcome) -> None:
    """The entry of an order this file just paid or failed."""
    ref = f"PO-{said.order.pk}"
    if said.outcome == "paid":
        report.note(ref, BOOKED, "", _booked_words(said.date), said.position)
    elif said.money_moved:
        words = _("Returned by the bank: %(reason)s.") % {"reason": _failure_words(said.code)}
        report.note(ref, REFUSED, said.code, words, said.position)
    else:
        words = _("Rejected by the bank: %(reason)s.") % {"reason": _failure_words(said.code)}
        report.note(ref, REFUSED, said.code, words, said.position)


def _contradiction(report: StatusReport, order: PaymentOrder, said: Outcome, actor: Any) -> None:
    """The bank's word about an order that is no longer scheduled."""
    amount = said.amount if said.amount is not None else order.amount.amount
    ref = f"PO-{order.pk}"
    if said.outcome == "paid" and order.status in (OrderStatus.FAILED, OrderStatus.CANCELLED):
        _exception(report, order, said, BankExceptionKind.PAID_AFTER_FAILURE, amount, actor)
    elif said.outcome == "paid" or order.status != OrderStatus.PAID:
        # Paid again (a re-import), or a rejection of what already failed.
        words = _("Already booked; this file changes nothing for it.")
        report.note(ref, UNCHANGED, said.code, words, said.position)
    elif said.money_moved:
        _exception(report, order, said, BankExceptionKind.RETURNED_AFTER_PAYMENT, amount, actor)
    elif not order.paid_by_bank:
        # Confirmed by hand, rejected by the bank: the money never left, the books must say so.
        kind = BankExceptionKind.REJECTED_AFTER_CONFIRMATION
        _exception(report, order, said, kind, order.amount.amount, actor)
    else:
        report.unknown.append(ref)  # the bank's own booking stands
        words = _("The bank booked this payment as paid; its rejection changes nothing.")
        report.note(ref, UNCHANGED, said.code, words, said.position)


def _exception(
    report: StatusReport,
    order: PaymentOrder,
    said: Outcome,
    kind: str,
    amount: Decimal,
    actor: Any,
) -> None:
    opened = record_bank_exception(
        order,
        actor=actor,
        kind=kind,
        amount=amount,
        booking_date=said.date,
        source=said.source,
    )
    ref = f"PO-{order.pk}"
    if opened is not None:
        report.exceptions.append(f"{ref}: {kind}")
        words = _("%(kind)s: listed as a bank exception for a treasurer to resolve.") % {
            "kind": BankExceptionKind(kind).label
        }
        report.note(ref, EXCEPTION, said.code, words, said.position)
    else:
        words = _("Already listed as a bank exception; this file changes nothing for it.")
        report.note(ref, UNCHANGED, said.code, words, said.position)


def _source(content: bytes, where: str, order: PaymentOrder) -> str:
    return f"{hashlib.sha256(content).hexdigest()[:32]}:{where}:PO-{order.pk}"


def _twice(seen: dict[int, str], order: PaymentOrder, where: str, problems: list[str]) -> bool:
    """Record where an order was named; a problem (and True) when it was named before."""
    if order.pk in seen:
        problems.append(
            _("PO-%(id)s is named twice (%(first)s and %(second)s); one answer per payment.")
            % {"id": order.pk, "first": seen[order.pk], "second": where}
        )
        return True
    seen[order.pk] = where
    return False


def import_pain002(content: bytes, *, actor: Any) -> StatusReport:
    require_treasurer(actor=actor)
    root = _parse(content)
    if root.tag != f"{{{PAIN002}}}Document":
        raise ValidationFailed(
            _("This is not a pain.002.001.03 status report (the file holds “%(tag)s”).")
            % {"tag": _name(root.tag)}
        )
    body = root.find("p:CstmrPmtStsRpt", {"p": PAIN002})
    message_id = _text(body, "p:OrgnlGrpInfAndSts/p:OrgnlMsgId", PAIN002)
    if not message_id:
        raise ValidationFailed(_("The status report names no original message (OrgnlMsgId)."))
    batch = PaymentBatch.objects.filter(message_id=message_id[:35]).first()
    if batch is None or batch.message_id != message_id:
        raise ValidationFailed(
            _("The status report is for %(id)s, which is no batch of ours.")
            % {"id": shown(message_id)}
        )
    if batch.exported_at is None:
        raise ValidationFailed(
            _(
                "The status report is for %(id)s, whose file was never exported: the bank "
                "cannot have it. Nothing was imported."
            )
            % {"id": batch.message_id}
        )
    report = StatusReport(batch=batch, kind="pain.002", sha256=hashlib.sha256(content).hexdigest())
    report.acknowledged.add(batch.pk)  # a status report about the file: the bank has it
    problems: list[str] = []
    group_status = _text(body, "p:OrgnlGrpInfAndSts/p:GrpSts", PAIN002)
    group_reason = _text(body, "p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd", PAIN002)
    if group_status and not CODE.fullmatch(group_status):
        problems.append(
            _("The group status “%(code)s” is not a code.") % {"code": shown(group_status)}
        )
    if group_reason and not CODE.fullmatch(group_reason):
        problems.append(
            _("The group reason “%(code)s” is not a code.") % {"code": shown(group_reason)}
        )
    transactions = body.findall(".//p:TxInfAndSts", {"p": PAIN002})
    orders = {o.pk: o for o in batch.orders.filter(in_file=True)}
    outcomes: list[Outcome] = []
    if group_status in REJECTED and not transactions:
        _refuse(problems)
        outcomes = []
        for position, in_file in enumerate(sorted(orders.values(), key=lambda o: o.pk)):
            if in_file.status == OrderStatus.SCHEDULED:
                outcomes.append(Outcome(in_file, "failed", group_reason, position=position))
            else:
                words = _("Already booked; this file changes nothing for it.")
                report.note(f"PO-{in_file.pk}", UNCHANGED, group_reason, words, position)
        return _apply(report, outcomes, actor)
    seen: dict[int, str] = {}
    for number, tx in enumerate(transactions, start=1):
        where = _("transaction %(n)s") % {"n": number}
        end_to_end = _text(tx, "p:OrgnlEndToEndId", PAIN002)
        status = _text(tx, "p:TxSts", PAIN002)
        reason = _text(tx, "p:StsRsnInf/p:Rsn/p:Cd", PAIN002)
        order = orders.get(_order_id(end_to_end) or 0)
        if order is None:
            problems.append(
                _("In %(where)s, “%(ref)s” is no payment order of batch %(batch)s.")
                % {"where": where, "ref": shown(end_to_end), "batch": batch.message_id}
            )
            continue
        if not CODE.fullmatch(status):
            problems.append(
                _("In %(where)s (PO-%(id)s), the status “%(code)s” is not a code.")
                % {"where": where, "id": order.pk, "code": shown(status)}
            )
        if reason and not CODE.fullmatch(reason):
            problems.append(
                _("In %(where)s (PO-%(id)s), the reason “%(code)s” is not a code.")
                % {"where": where, "id": order.pk, "code": shown(reason)}
            )
        if _twice(seen, order, where, problems):
            continue
        if status in SETTLED:
            source = _source(content, where, order)
            outcomes.append(Outcome(order, "paid", source=source, position=number))
        elif status in REJECTED:
            outcomes.append(Outcome(order, "failed", reason, position=number))
        else:
            report.pending += 1
            report.not_booked.append(f"PO-{order.pk}: {shown(status, 8)}")
            report.note(f"PO-{order.pk}", PENDING, status, _pending_words(status), number)
    _refuse(problems)
    return _apply(report, outcomes, actor)


def _booking_date(entry: Any, ns: str, where: str, problems: list[str]) -> dt.date | None:
    text = _text(entry, "p:BookgDt/p:Dt", ns) or _text(entry, "p:BookgDt/p:DtTm", ns)[:10]
    if not text:
        return None
    try:
        if not DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(
            _("In %(where)s, the booking date “%(d)s” is not a date (YYYY-MM-DD).")
            % {"where": where, "d": shown(text)}
        )
        return None


def _amount(element: Any, ns: str) -> tuple[Decimal | None, str, str]:
    """An ``Amt`` element's value, currency and text (value None when it is no amount)."""
    if element is None:
        return None, "", ""
    text, currency = (element.text or "").strip(), element.get("Ccy", "")
    try:
        value: Decimal | None = Decimal(text)
    except InvalidOperation:
        value = None
    if value is not None and (not value.is_finite() or value.as_tuple().exponent < -2):  # type: ignore[operator]
        value = None
    return value, currency, text


def _transaction_amount(tx: Any, ns: str) -> Any:
    """A transaction's own amount: ``AmtDtls/TxAmt/Amt`` (.001.02) or ``Amt`` (.001.08)."""
    found = tx.find("p:AmtDtls/p:TxAmt/p:Amt", {"p": ns})
    return found if found is not None else tx.find("p:Amt", {"p": ns})


def _entry_amounts(
    entry: Any, details: list[Any], ns: str, where: str, problems: list[str]
) -> list[Decimal | None]:
    """Each transaction's SEK amount; problems when they or their sum do not add up."""
    total, currency, text = _amount(entry.find("p:Amt", {"p": ns}), ns)
    if total is None or currency != "SEK":
        problems.append(
            _("In %(where)s, the amount “%(amount)s %(ccy)s” is not an amount in SEK.")
            % {"where": where, "amount": shown(text), "ccy": shown(currency)}
        )
        return [None] * len(details)
    amounts: list[Decimal | None] = []
    for number, tx in enumerate(details, start=1):
        element = _transaction_amount(tx, ns)
        if element is None and len(details) == 1:
            amounts.append(total)
            continue
        value, tx_currency, tx_text = _amount(element, ns)
        if value is None or tx_currency != "SEK":
            problems.append(
                _(
                    "In %(where)s, transaction %(n)s has the amount “%(amount)s %(ccy)s”; "
                    "each transaction must state its amount in SEK."
                )
                % {"where": where, "n": number, "amount": shown(tx_text), "ccy": shown(tx_currency)}
            )
        amounts.append(value if tx_currency == "SEK" else None)
    known = [a for a in amounts if a is not None]
    if len(known) == len(details) and sum(known, Decimal(0)) != total:
        problems.append(
            _("In %(where)s, the entry's %(total)s SEK is not the sum of its transactions.")
            % {"where": where, "total": total}
        )
    return amounts


def _status_of(entry: Any, ns: str) -> str:
    """``<Sts>BOOK</Sts>`` (.001.02) or ``<Sts><Cd>BOOK</Cd></Sts>`` (.001.08 and later)."""
    return _text(entry, "p:Sts/p:Cd", ns) or _text(entry, "p:Sts", ns)


def import_camt054(content: bytes, *, actor: Any) -> StatusReport:
    require_treasurer(actor=actor)
    root = _parse(content)
    ns = root.tag[1 : root.tag.index("}")] if root.tag.startswith("{") else ""
    if not ns.startswith(CAMT054):
        raise ValidationFailed(
            _("This is not a camt.054 debit notification (the file holds “%(tag)s”).")
            % {"tag": _name(root.tag)}
        )
    report = StatusReport(batch=None, kind="camt.054", sha256=hashlib.sha256(content).hexdigest())
    problems: list[str] = []
    entries = list(root.iterfind(".//p:Ntry", {"p": ns}))
    referenced = {
        _order_id(_text(tx, "p:Refs/p:EndToEndId", ns))
        for entry in entries
        for tx in entry.iterfind(".//p:TxDtls", {"p": ns})
    } - {None}
    exported = {
        o.pk: o
        for o in PaymentOrder.objects.filter(
            in_file=True, batch__exported_at__isnull=False, pk__in=referenced
        )
    }
    outcomes: list[Outcome] = []
    seen: dict[int, str] = {}
    position = 0
    for number, entry in enumerate(entries, start=1):
        where = _("entry %(n)s") % {"n": number}
        status = _status_of(entry, ns)
        booked = status == "BOOK"
        debit = _text(entry, "p:CdtDbtInd", ns) == "DBIT"
        date = _booking_date(entry, ns, where, problems)
        details = list(entry.iterfind(".//p:TxDtls", {"p": ns}))
        amounts = _entry_amounts(entry, details, ns, where, problems)
        for tx, amount in zip(details, amounts, strict=True):
            position += 1
            end_to_end = _text(tx, "p:Refs/p:EndToEndId", ns)
            order_id = _order_id(end_to_end)
            if order_id is None:
                report.unknown.append(shown(end_to_end))  # another debit of the account
                words = _("Not one of our payment orders (another debit of the account).")
                report.note(shown(end_to_end, 35), NOT_MATCHED, "", words, position)
                continue
            order = exported.get(order_id)
            if order is None:
                problems.append(
                    _("In %(where)s, %(ref)s is no payment order sent to the bank.")
                    % {"where": where, "ref": shown(end_to_end)}
                )
                continue
            if _twice(seen, order, where, problems):
                continue
            if order.batch_id is not None:
                report.acknowledged.add(order.batch_id)
            if amount is not None and amount != order.amount.amount:
                problems.append(
                    _(
                        "In %(where)s, the bank booked “%(amount)s SEK” for PO-%(id)s, "
                        "which is %(expected)s SEK."
                    )
                    % {
                        "where": where,
                        "amount": amount,
                        "id": order.pk,
                        "expected": order.amount.amount,
                    }
                )
                continue
            returned = _text(tx, "p:RtrInf/p:Rsn/p:Cd", ns)
            source = _source(content, f"{number}", order)
            if returned and not CODE.fullmatch(returned):
                problems.append(
                    _("In %(where)s (PO-%(id)s), the return reason “%(code)s” is not a code.")
                    % {"where": where, "id": order.pk, "code": shown(returned)}
                )
            elif not booked:
                report.pending += 1
                report.not_booked.append(f"PO-{order.pk}: {shown(status, 8) or '-'}")
                code = shown(status, 8)
                report.note(f"PO-{order.pk}", PENDING, code, _pending_words(code), position)
            elif returned:
                outcomes.append(
                    Outcome(order, "failed", returned, date, amount, source, True, position)
                )
            elif debit:
                outcomes.append(Outcome(order, "paid", "", date, amount, source, True, position))
            else:
                report.unknown.append(f"PO-{order.pk}")  # a credit without return information
                words = _("A credit without return information; nothing is booked.")
                report.note(f"PO-{order.pk}", NOT_MATCHED, "", words, position)
    _refuse(problems)
    return _apply(report, outcomes, actor)


def import_bank_file(content: bytes, *, actor: Any) -> StatusReport:
    """Read a pain.002 or camt.054 file, whichever it is."""
    require_treasurer(actor=actor)
    tag = _parse(content).tag
    if isinstance(tag, str) and tag.startswith(f"{{{CAMT054}"):
        return import_camt054(content, actor=actor)
    if tag == f"{{{PAIN002}}}Document":
        return import_pain002(content, actor=actor)
    raise ValidationFailed(
        _(
            "This is neither a pain.002.001.03 status report nor a camt.054 notification "
            "(the file holds “%(tag)s”)."
        )
        % {"tag": _name(tag)}
    )
