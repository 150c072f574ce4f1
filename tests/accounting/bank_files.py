"""The bank's answers as the tests write them: pain.002 status reports, camt.054 entries."""

from __future__ import annotations

from typing import Any


def pain002(batch: Any, statuses: list[tuple[Any, tuple[str, str]]]) -> bytes:
    """A pain.002.001.03 status report for ``batch``: (order, (status, reason code)) each."""
    txs = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>PO-{order.pk}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>" if code else "")
        + "</TxInfAndSts>"
        for order, (status, code) in statuses
    )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">'
        "<CstmrPmtStsRpt><GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-11-23T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{batch.message_id}</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId></OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch.message_id}</OrgnlPmtInfId>{txs}"
        "</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()


def camt054(entries: list[tuple[Any, Any, str]]) -> bytes:
    """A camt.054 debit notification: (order, booking date, return reason code) each."""
    body = "".join(
        "<Ntry><Amt Ccy='SEK'>{amt}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>"
        "<BookgDt><Dt>{date}</Dt></BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>PO-{pk}"
        "</EndToEndId></Refs>{rtr}</TxDtls></NtryDtls></Ntry>".format(
            amt=order.amount.amount,
            date=date,
            pk=order.pk,
            rtr=f"<RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf>" if code else "",
        )
        for order, date, code in entries
    )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>C1</MsgId><CreDtTm>2026-11-23T10:00:00</CreDtTm>"
        f"</GrpHdr><Ntfctn><Id>N1</Id>{body}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def camt054_entry(
    txs: list[tuple[Any, Any, str]],
    *,
    total: Any,
    status: str = "BOOK",
    status_form: str = "code",
    date: str = "2026-11-24",
    direction: str = "DBIT",
    returned: str = "",
) -> str:
    """One ``Ntry``: (order or end-to-end id, amount, currency) per transaction.

    ``status_form`` "code" writes ``<Sts><Cd>…</Cd></Sts>`` (camt.054.001.08 and later),
    "plain" writes ``<Sts>…</Sts>`` (.001.02).
    """
    sts = f"<Sts><Cd>{status}</Cd></Sts>" if status_form == "code" else f"<Sts>{status}</Sts>"
    details = "".join(
        "<TxDtls><Refs><EndToEndId>{ref}</EndToEndId></Refs>"
        "<AmtDtls><TxAmt><Amt Ccy='{ccy}'>{amt}</Amt></TxAmt></AmtDtls>{rtr}</TxDtls>".format(
            ref=ref if isinstance(ref, str) else f"PO-{ref.pk}",
            amt=amount,
            ccy=currency,
            rtr=f"<RtrInf><Rsn><Cd>{returned}</Cd></Rsn></RtrInf>" if returned else "",
        )
        for ref, amount, currency in txs
    )
    return (
        f"<Ntry><Amt Ccy='SEK'>{total}</Amt><CdtDbtInd>{direction}</CdtDbtInd>{sts}"
        f"<BookgDt><Dt>{date}</Dt></BookgDt><NtryDtls>{details}</NtryDtls></Ntry>"
    )


def camt054_file(entries: list[str], version: str = "001.08") -> bytes:
    """A camt.054 notification holding the given ``Ntry`` elements."""
    return (
        '<?xml version="1.0"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.{version}">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>C2</MsgId><CreDtTm>2026-11-24T10:00:00</CreDtTm>"
        f"</GrpHdr><Ntfctn><Id>N2</Id>{''.join(entries)}</Ntfctn></BkToCstmrDbtCdtNtfctn>"
        "</Document>"
    ).encode()
