"""Reading the bank's answer: pain.002 status reports and camt.054 debit notifications.

Transactions are matched by end-to-end id (``PO-<order id>``) within the batch the report is
for (pain.002) or within sent batches (camt.054).

* pain.002.001.03: ``ACSC`` (settled) books the order as paid; ``RJCT`` fails it with the
  bank's reason code (e.g. ``AC04`` closed account); other statuses (``ACCP``, ``ACTC``,
  ``PDNG`` …) are only counted. A group status ``RJCT`` without transaction details rejects
  every order of the batch.
* camt.054: a booked (``BOOK``) debit entry books the order as paid on the booking date; a
  transaction with return information (``RtrInf/Rsn/Cd``) fails an unpaid order with that
  code.

Importing the same file again changes nothing: paid and failed orders are skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from lxml import etree

from accounting.models import BatchStatus, OrderStatus, PaymentBatch, PaymentOrder
from accounting.payouts import confirm_paid, reject_orders
from workflows.exceptions import ValidationFailed

PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CAMT054 = "urn:iso:std:iso:20022:tech:xsd:camt.054."
SETTLED = {"ACSC"}
REJECTED = {"RJCT"}


@dataclass
class StatusReport:
    batch: PaymentBatch | None
    paid: int = 0
    failed: int = 0
    pending: int = 0
    unknown: list[str] = field(default_factory=list)


def _parse(content: bytes) -> etree._Element:
    try:
        return etree.fromstring(
            content, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed(_("The bank file is not XML: %(e)s") % {"e": exc}) from exc


def _text(element: Any, path: str, ns: str) -> str:
    found = element.find(path, {"p": ns}) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _order(end_to_end: str, orders: Any) -> PaymentOrder | None:
    if end_to_end.startswith("PO-") and end_to_end[3:].isdigit():
        return orders.filter(pk=int(end_to_end[3:])).first()
    return None


def _apply(
    report: StatusReport,
    outcomes: list[tuple[PaymentOrder, str, str, dt.date | None]],
    actor: Any,
) -> StatusReport:
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


def import_pain002(content: bytes, actor: Any) -> StatusReport:
    root = _parse(content)
    if root.tag != f"{{{PAIN002}}}Document":
        raise ValidationFailed(_("This is not a pain.002.001.03 status report."))
    body = root.find("p:CstmrPmtStsRpt", {"p": PAIN002})
    message_id = _text(body, "p:OrgnlGrpInfAndSts/p:OrgnlMsgId", PAIN002)
    batch = PaymentBatch.objects.filter(message_id=message_id).first()
    if batch is None:
        raise ValidationFailed(
            _("The status report is for %(id)s, which is no batch of ours.") % {"id": message_id}
        )
    report = StatusReport(batch=batch)
    group_status = _text(body, "p:OrgnlGrpInfAndSts/p:GrpSts", PAIN002)
    group_reason = _text(body, "p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd", PAIN002)
    transactions = body.findall(".//p:TxInfAndSts", {"p": PAIN002})
    outcomes: list[tuple[PaymentOrder, str, str, dt.date | None]] = []
    if group_status in REJECTED and not transactions:
        outcomes = [
            (scheduled, "failed", group_reason, None)
            for scheduled in batch.orders.filter(status=OrderStatus.SCHEDULED)
        ]
        return _apply(report, outcomes, actor)
    for tx in transactions:
        end_to_end = _text(tx, "p:OrgnlEndToEndId", PAIN002)
        status = _text(tx, "p:TxSts", PAIN002)
        order = _order(end_to_end, batch.orders.all())
        if order is None:
            report.unknown.append(end_to_end)
        elif status in SETTLED:
            outcomes.append((order, "paid", "", None))
        elif status in REJECTED:
            outcomes.append((order, "failed", _text(tx, "p:StsRsnInf/p:Rsn/p:Cd", PAIN002), None))
        else:
            report.pending += 1
    return _apply(report, outcomes, actor)


def import_camt054(content: bytes, actor: Any) -> StatusReport:
    root = _parse(content)
    ns = root.tag[1 : root.tag.index("}")] if root.tag.startswith("{") else ""
    if not ns.startswith(CAMT054):
        raise ValidationFailed(_("This is not a camt.054 debit notification."))
    sent = PaymentOrder.objects.filter(batch__status=BatchStatus.SENT)
    report = StatusReport(batch=None)
    outcomes: list[tuple[PaymentOrder, str, str, dt.date | None]] = []
    for entry in root.iterfind(".//p:Ntry", {"p": ns}):
        booked = (
            _text(entry, "p:Sts", ns) in ("BOOK", "") or _text(entry, "p:Sts/p:Cd", ns) == "BOOK"
        )
        debit = _text(entry, "p:CdtDbtInd", ns) == "DBIT"
        date_text = _text(entry, "p:BookgDt/p:Dt", ns)
        date = dt.date.fromisoformat(date_text) if date_text else None
        for tx in entry.iterfind(".//p:TxDtls", {"p": ns}):
            end_to_end = _text(tx, "p:Refs/p:EndToEndId", ns)
            order = _order(end_to_end, sent)
            if order is None:
                report.unknown.append(end_to_end)
                continue
            returned = _text(tx, "p:RtrInf/p:Rsn/p:Cd", ns)
            if returned:
                outcomes.append((order, "failed", returned, None))
            elif booked and debit:
                outcomes.append((order, "paid", "", date))
            else:
                report.pending += 1
    return _apply(report, outcomes, actor)


def import_bank_file(content: bytes, actor: Any) -> StatusReport:
    """Read a pain.002 or camt.054 file, whichever it is."""
    tag = _parse(content).tag
    if tag.startswith(f"{{{CAMT054}"):
        return import_camt054(content, actor)
    return import_pain002(content, actor)
