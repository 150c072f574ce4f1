"""Reading the bank's payment status report (ISO 20022 pain.002.001.03).

Per transaction (``OrgnlEndToEndId`` = ``PO-<order id>``): ``ACSC`` (settled) books the order
as paid; ``RJCT`` fails it with the bank's reason code (e.g. ``AC04`` closed account); other
statuses (``ACCP``, ``ACTC``, ``PDNG`` …) are only counted. A group status ``RJCT`` without
transaction details rejects every order of the batch. Importing the same file again changes
nothing: paid and failed orders are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from lxml import etree

from accounting.models import OrderStatus, PaymentBatch, PaymentOrder
from accounting.payouts import confirm_paid, reject_orders
from workflows.exceptions import ValidationFailed

PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
SETTLED = {"ACSC"}
REJECTED = {"RJCT"}


@dataclass
class StatusReport:
    batch: PaymentBatch
    paid: int = 0
    failed: int = 0
    pending: int = 0
    unknown: list[str] = field(default_factory=list)


def _text(element: Any, path: str) -> str:
    found = element.find(path, {"p": PAIN002})
    return (found.text or "").strip() if found is not None else ""


def import_pain002(content: bytes, actor: Any) -> StatusReport:
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed(_("The status file is not XML: %(e)s") % {"e": exc}) from exc
    if root.tag != f"{{{PAIN002}}}Document":
        raise ValidationFailed(_("This is not a pain.002.001.03 status report."))
    report_el = root.find("p:CstmrPmtStsRpt", {"p": PAIN002})
    message_id = _text(report_el, "p:OrgnlGrpInfAndSts/p:OrgnlMsgId")
    batch = PaymentBatch.objects.filter(message_id=message_id).first()
    if batch is None:
        raise ValidationFailed(
            _("The status report is for %(id)s, which is no batch of ours.") % {"id": message_id}
        )
    report = StatusReport(batch=batch)
    group_status = _text(report_el, "p:OrgnlGrpInfAndSts/p:GrpSts")
    group_reason = _text(report_el, "p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd")
    transactions = report_el.findall(".//p:TxInfAndSts", {"p": PAIN002})
    with transaction.atomic():
        if group_status in REJECTED and not transactions:
            orders = list(batch.orders.filter(status=OrderStatus.SCHEDULED))
            report.failed = reject_orders(orders, actor, code=group_reason) if orders else 0
            return report
        by_status: dict[tuple[str, str], list[PaymentOrder]] = {}
        for tx in transactions:
            end_to_end = _text(tx, "p:OrgnlEndToEndId")
            status = _text(tx, "p:TxSts")
            reason = _text(tx, "p:StsRsnInf/p:Rsn/p:Cd")
            order = None
            if end_to_end.startswith("PO-") and end_to_end[3:].isdigit():
                order = batch.orders.filter(pk=int(end_to_end[3:])).first()
            if order is None:
                report.unknown.append(end_to_end)
                continue
            if status in SETTLED:
                by_status.setdefault(("paid", ""), []).append(order)
            elif status in REJECTED:
                by_status.setdefault(("failed", reason), []).append(order)
            else:
                report.pending += 1
        for (outcome, code), orders in sorted(by_status.items()):
            if outcome == "paid":
                report.paid += confirm_paid(orders, actor)
            else:
                report.failed += reject_orders(orders, actor, code=code)
    return report
