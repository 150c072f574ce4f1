"""Reading the bank's answer: pain.002 status reports and camt.054 debit notifications.

Transactions are matched by end-to-end id (``PO-<order id>``) within the batch the report is
for (pain.002) or within sent batches (camt.054).

* pain.002.001.03: ``ACSC`` (settled) books the order as paid; ``RJCT`` fails it with the
  bank's reason code (e.g. ``AC04`` closed account); other statuses (``ACCP``, ``ACTC``,
  ``PDNG`` …) are only counted. A group status ``RJCT`` without transaction details rejects
  every order of the batch.
* camt.054: a booked (``BOOK``) debit entry books the order as paid on the booking date; a
  transaction with return information (``RtrInf/Rsn/Cd``) fails an unpaid order with that
  code. Entries with references that are not ours (``PO-…``) are other debits of the account
  and are only counted as not matched.

A file is read whole before anything is booked: when anything in it is wrong — not XML, a
DTD, another message type or version, a reference to an order the file cannot be about, an
order named twice, a status or reason that is no code, a date that is no date, an amount that
is not the order's — nothing is imported and every problem is listed. Importing the same
file again changes nothing: paid and failed orders are skipped.

The XML parser reads no DTD, expands no entity and fetches nothing from the network or the
disk (``SAFE_PARSER_OPTIONS``); a document that declares a DTD at all is refused, so neither
"billion laughs" entity expansion nor external entities (XXE) can do anything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from accounting.models import BatchStatus, OrderStatus, PaymentBatch, PaymentOrder
from accounting.payouts import confirm_paid, reject_orders, require_treasurer
from workflows.exceptions import ValidationFailed
from workflows.inputs import MAX_ID, shown

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


@dataclass
class StatusReport:
    batch: PaymentBatch | None
    paid: int = 0
    failed: int = 0
    pending: int = 0
    unknown: list[str] = field(default_factory=list)


Outcome = tuple[PaymentOrder, str, str, dt.date | None]


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


def _apply(report: StatusReport, outcomes: list[Outcome], actor: Any) -> StatusReport:
    """Book the outcomes, grouped so each group is one service call (in one transaction)."""
    groups: dict[tuple[str, str, dt.date | None], list[PaymentOrder]] = {}
    for order, outcome, code, date in outcomes:
        groups.setdefault((outcome, code, date), []).append(order)
    with transaction.atomic():
        for (outcome, code, date), orders in sorted(groups.items(), key=lambda g: str(g[0])):
            if outcome == "paid":
                report.paid += confirm_paid(orders, actor, date=date)
            else:
                unpaid = [o for o in orders if o.status != OrderStatus.PAID]
                report.unknown += [f"PO-{o.pk}" for o in orders if o.status == OrderStatus.PAID]
                if unpaid:
                    report.failed += reject_orders(unpaid, actor, code=code)
    return report


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


def import_pain002(content: bytes, actor: Any) -> StatusReport:
    require_treasurer(actor)
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
    report = StatusReport(batch=batch)
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
    orders = {o.pk: o for o in batch.orders.all()}
    outcomes: list[Outcome] = []
    if group_status in REJECTED and not transactions:
        _refuse(problems)
        outcomes = [
            (order, "failed", group_reason, None)
            for order in orders.values()
            if order.status == OrderStatus.SCHEDULED
        ]
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
            outcomes.append((order, "paid", "", None))
        elif status in REJECTED:
            outcomes.append((order, "failed", reason, None))
        else:
            report.pending += 1
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


def _amount_problem(entry: Any, ns: str, order: PaymentOrder, where: str) -> str:
    """The entry's amount must be the order's, in SEK (checked when it books one payment)."""
    amount = entry.find("p:Amt", {"p": ns})
    if amount is None:
        return ""
    text, currency = (amount.text or "").strip(), amount.get("Ccy", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or currency != "SEK" or value != order.amount.amount:
        return _(
            "In %(where)s, the bank booked “%(amount)s %(ccy)s” for PO-%(id)s, "
            "which is %(expected)s SEK."
        ) % {
            "where": where,
            "amount": shown(text),
            "ccy": shown(currency),
            "id": order.pk,
            "expected": order.amount.amount,
        }
    return ""


def import_camt054(content: bytes, actor: Any) -> StatusReport:
    require_treasurer(actor)
    root = _parse(content)
    ns = root.tag[1 : root.tag.index("}")] if root.tag.startswith("{") else ""
    if not ns.startswith(CAMT054):
        raise ValidationFailed(
            _("This is not a camt.054 debit notification (the file holds “%(tag)s”).")
            % {"tag": _name(root.tag)}
        )
    report = StatusReport(batch=None)
    problems: list[str] = []
    entries = list(root.iterfind(".//p:Ntry", {"p": ns}))
    referenced = {
        _order_id(_text(tx, "p:Refs/p:EndToEndId", ns))
        for entry in entries
        for tx in entry.iterfind(".//p:TxDtls", {"p": ns})
    } - {None}
    sent = {
        o.pk: o
        for o in PaymentOrder.objects.filter(batch__status=BatchStatus.SENT, pk__in=referenced)
    }
    outcomes: list[Outcome] = []
    seen: dict[int, str] = {}
    for number, entry in enumerate(entries, start=1):
        where = _("entry %(n)s") % {"n": number}
        booked = (
            _text(entry, "p:Sts", ns) in ("BOOK", "") or _text(entry, "p:Sts/p:Cd", ns) == "BOOK"
        )
        debit = _text(entry, "p:CdtDbtInd", ns) == "DBIT"
        date = _booking_date(entry, ns, where, problems)
        details = list(entry.iterfind(".//p:TxDtls", {"p": ns}))
        for tx in details:
            end_to_end = _text(tx, "p:Refs/p:EndToEndId", ns)
            order_id = _order_id(end_to_end)
            if order_id is None:
                report.unknown.append(shown(end_to_end))  # another debit of the account
                continue
            order = sent.get(order_id)
            if order is None:
                problems.append(
                    _("In %(where)s, %(ref)s is no payment order sent to the bank.")
                    % {"where": where, "ref": shown(end_to_end)}
                )
                continue
            if _twice(seen, order, where, problems):
                continue
            returned = _text(tx, "p:RtrInf/p:Rsn/p:Cd", ns)
            if returned and not CODE.fullmatch(returned):
                problems.append(
                    _("In %(where)s (PO-%(id)s), the return reason “%(code)s” is not a code.")
                    % {"where": where, "id": order.pk, "code": shown(returned)}
                )
            elif returned:
                outcomes.append((order, "failed", returned, None))
            elif booked and debit:
                if len(details) == 1 and (problem := _amount_problem(entry, ns, order, where)):
                    problems.append(problem)
                outcomes.append((order, "paid", "", date))
            else:
                report.pending += 1
    _refuse(problems)
    return _apply(report, outcomes, actor)


def import_bank_file(content: bytes, actor: Any) -> StatusReport:
    """Read a pain.002 or camt.054 file, whichever it is."""
    require_treasurer(actor)
    tag = _parse(content).tag
    if isinstance(tag, str) and tag.startswith(f"{{{CAMT054}"):
        return import_camt054(content, actor)
    if tag == f"{{{PAIN002}}}Document":
        return import_pain002(content, actor)
    raise ValidationFailed(
        _(
            "This is neither a pain.002.001.03 status report nor a camt.054 notification "
            "(the file holds “%(tag)s”)."
        )
        % {"tag": _name(tag)}
    )
