"""RFC 3161 trusted timestamps for checkpoints: asked of an authority, checked offline.

A timestamp authority signs "SHA-256 of these bytes existed at genTime". Stamped over a
checkpoint note, the token proves the log's head existed then, whatever the server's clock or
its operator says later. What is stored (and what an auditor keeps) is the DER
**TimeStampToken** — the CMS SignedData the authority returned, as ``openssl ts -verify
-token_in`` reads it; ``verify_timestamp`` also accepts a whole TimeStampResp.

Parsing and the signature check are done by ``rfc3161-client``; the HTTP request uses the
standard library. Free of Django apart from :func:`stamp`, which reads the settings inside the
function, so the offline verifier imports this module without Django. Messages are for the
operator or auditor who reads them in a log or terminal: which URL, which check failed.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import rfc3161_client
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ObjectIdentifier

SHA256_OID = ObjectIdentifier("2.16.840.1.101.3.4.2.1")
#: An answer larger than this is not a timestamp response (a token is a few kilobytes).
MAX_RESPONSE_BYTES = 1 << 20
#: PKIStatusInfo { status granted(0) }, DER: the status a whole response wraps a token in.
_GRANTED_STATUS = bytes.fromhex("3003020100")


class TimestampError(Exception):
    """A timestamp could not be obtained or does not prove what it should; says why."""


def request_timestamp(data: bytes, *, url: str, timeout: float) -> bytes:
    """Ask the authority at ``url`` to stamp SHA-256(``data``); the DER TimeStampToken.

    The answer is checked against the request (granted, same nonce, same imprint, a
    certificate included) before it is kept, so a confused or replaying authority is caught
    at once rather than years later by an auditor.
    """
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise TimestampError(
            f"The timestamp authority URL {url!r} (AUDIT_TSA_URL) must start with "
            "http:// or https://."
        )
    query = (
        rfc3161_client.TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(rfc3161_client.HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    body = _post(url, query.as_bytes(), timeout)
    try:
        response = _decode_response(body)
    except ValueError as exc:
        raise TimestampError(
            f"The timestamp authority at {url} did not answer with an RFC 3161 timestamp "
            f"response ({len(body)} bytes that do not parse: {_first_line(exc)})."
        ) from None
    status = rfc3161_client.PKIStatus(response.status)
    if status not in (rfc3161_client.PKIStatus.GRANTED, rfc3161_client.PKIStatus.GRANTED_WITH_MODS):
        reason = "; ".join(response.status_string) or "no reason given"
        raise TimestampError(
            f"The timestamp authority at {url} refused the request: {status.name} ({reason})."
        )
    info = response.tst_info
    if info.nonce != query.nonce:
        raise TimestampError(
            f"The timestamp authority at {url} answered with another nonce: the answer does "
            "not belong to this request (a replayed or mixed-up response)."
        )
    if (
        info.message_imprint.hash_algorithm != SHA256_OID
        or info.message_imprint.message != hashlib.sha256(data).digest()
    ):
        raise TimestampError(
            f"The timestamp authority at {url} stamped another message imprint than the "
            "SHA-256 it was asked to stamp (imprint mismatch)."
        )
    if not response.signed_data.certificates:
        raise TimestampError(
            f"The timestamp authority at {url} left out its certificate although the "
            "request asked for it (certReq); its token could not be checked offline."
        )
    return response.time_stamp_token()


def _post(url: str, query: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s)
        url,
        data=query,
        method="POST",
        headers={
            "Content-Type": "application/timestamp-query",
            "Accept": "application/timestamp-reply",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) only # nosec B310
            body: bytes = answer.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampError(
            f"The timestamp authority at {url} answered HTTP {exc.code} ({exc.reason})."
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, OSError) and reason.strerror:
            reason = reason.strerror
        raise TimestampError(
            f"Could not reach the timestamp authority at {url}: {reason}."
        ) from None
    except (TimeoutError, OSError) as exc:
        raise TimestampError(
            f"Could not reach the timestamp authority at {url}: {exc or type(exc).__name__} "
            f"(timeout {timeout:g} s)."
        ) from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise TimestampError(
            f"The timestamp authority at {url} answered with more than "
            f"{MAX_RESPONSE_BYTES} bytes; that is no timestamp response."
        )
    return body


def stamp(data: bytes) -> bytes | None:
    """A token for ``data`` from ``settings.AUDIT_TSA_URL``, or None when none is set.

    With ``AUDIT_TSA_CA_FILE`` set the new token is also verified against it, so a wrong CA
    file or an authority that changed its certificate shows the day it happens.
    """
    from django.conf import settings

    url = str(getattr(settings, "AUDIT_TSA_URL", "") or "")
    if not url:
        return None
    timeout = float(getattr(settings, "AUDIT_TSA_TIMEOUT_SECONDS", 10))
    token = request_timestamp(data, url=url, timeout=timeout)
    ca_file = str(getattr(settings, "AUDIT_TSA_CA_FILE", "") or "")
    if ca_file:
        verify_timestamp(token, data, read_ca_file(Path(ca_file)))
    return token


def read_ca_file(path: Path) -> list[bytes]:
    """The PEM certificates in ``path`` (one or a bundle), for :func:`verify_timestamp`."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise TimestampError(
            f"Cannot read the timestamp authority's CA file {path} (AUDIT_TSA_CA_FILE): "
            f"{exc.strerror or exc}."
        ) from None
    return [pem]


def verify_timestamp(token: bytes, data: bytes, ca_pems: list[bytes]) -> datetime:
    """The time (aware, UTC) at which the authority saw SHA-256(``data``).

    ``token`` is a DER TimeStampToken (or a whole TimeStampResp). Its signature must chain to
    one of ``ca_pems`` (each PEM may hold several certificates), its signer must carry the
    critical timeStamping extended key usage, and its imprint must be SHA-256 of ``data``.
    """
    roots = _load_roots(ca_pems)
    response = _as_response(token)
    info = response.tst_info
    if info.message_imprint.hash_algorithm != SHA256_OID:
        raise TimestampError(
            "The timestamp token's message imprint is not SHA-256 "
            f"({info.message_imprint.hash_algorithm.dotted_string}); it does not stamp "
            "this data (imprint mismatch)."
        )
    builder = rfc3161_client.VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        # The imprint is compared below, to say so by name when only the data differs.
        builder.build().verify(response, info.message_imprint.message)
    except rfc3161_client.VerificationError as exc:
        raise TimestampError(_why_untrusted(response, roots, exc)) from None
    if info.message_imprint.message != hashlib.sha256(data).digest():
        raise TimestampError(
            "The timestamp token stamps another message imprint than SHA-256 of this data "
            "(imprint mismatch): it proves the time of something else."
        )
    generated = info.gen_time
    if generated.tzinfo is None:
        return generated.replace(tzinfo=UTC)
    return generated.astimezone(UTC)


def token_time(token: bytes) -> datetime:
    """The time the token states, read without checking it (a display convenience).

    Verification never trusts this: :func:`verify_timestamp` derives the time again.
    """
    generated = _as_response(token).tst_info.gen_time
    return generated.replace(tzinfo=UTC) if generated.tzinfo is None else generated.astimezone(UTC)


def _load_roots(ca_pems: list[bytes]) -> list[x509.Certificate]:
    roots: list[x509.Certificate] = []
    for pem in ca_pems:
        try:
            roots.extend(x509.load_pem_x509_certificates(pem))
        except ValueError:
            raise TimestampError(
                "A CA certificate given for the timestamp check is not a PEM certificate."
            ) from None
    if not roots:
        raise TimestampError(
            "No CA certificate was given to check the timestamp token against "
            "(AUDIT_TSA_CA_FILE, or the auditor's copy of the authority's CA)."
        )
    return roots


def _as_response(token: bytes) -> rfc3161_client.TimeStampResponse:
    """A whole response as it is, a bare token wrapped in a granted status."""
    try:
        return _decode_response(token)
    except ValueError:
        pass
    try:
        return _decode_response(_der_sequence(_GRANTED_STATUS + token))
    except ValueError as exc:
        raise TimestampError(
            f"The timestamp token is malformed: not an RFC 3161 TimeStampToken in DER "
            f"({len(token)} bytes; {_first_line(exc)})."
        ) from None


def _decode_response(der: bytes) -> rfc3161_client.TimeStampResponse:
    """Parse a TimeStampResp, first putting its certificates in DER order if need be.

    ``openssl ts`` (and authorities built on it) list the signer's certificate before the
    chain, which breaks DER's sorted SET OF; ``rfc3161-client`` parses strictly and refuses.
    The certificates lie outside what the authority signed, so sorting them changes nothing
    the signature covers.
    """
    try:
        return rfc3161_client.decode_timestamp_response(der)
    except ValueError as exc:
        if "InvalidSetOrdering" not in str(exc):
            raise
        try:
            reordered = _certificates_in_der_order(der)
        except (ValueError, IndexError):
            raise exc from None
        return rfc3161_client.decode_timestamp_response(reordered)


def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end) of the DER element at ``at``."""
    if at + 2 > len(der):
        raise ValueError("truncated DER element")
    tag, first = der[at], der[at + 1]
    start = at + 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(der):
            raise ValueError("unsupported DER length")
        size = int.from_bytes(der[start : start + count], "big")
        start += count
    if start + size > len(der):
        raise ValueError("truncated DER element")
    return tag, start, start + size


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, end) of each element in ``der[start:end]``."""
    found, at = [], start
    while at < end:
        tag, content, stop = _tlv(der, at)
        found.append((tag, at, content, stop))
        at = stop
    return found


def _certificates_in_der_order(response: bytes) -> bytes:
    """``response`` with SignedData.certificates sorted as DER requires; same length."""
    _tag, start, end = _tlv(response, 0)
    status, token = _children(response, start, end)[:2]
    content_info = _children(response, token[2], token[3])  # contentType, [0] content
    signed_data = _children(response, content_info[1][2], content_info[1][3])[0]
    fields = _children(response, signed_data[2], signed_data[3])
    certificates = next((f for f in fields if f[0] == 0xA0), None)
    if status[0] != 0x30 or certificates is None:
        raise ValueError("no certificates to put in order")
    elements = _children(response, certificates[2], certificates[3])
    ordered = b"".join(sorted(response[e[1] : e[3]] for e in elements))
    return response[: certificates[2]] + ordered + response[certificates[3] :]


def _der_sequence(content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return b"\x30" + bytes([size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(length)]) + length + content


def _why_untrusted(
    response: rfc3161_client.TimeStampResponse,
    roots: list[x509.Certificate],
    error: rfc3161_client.VerificationError,
) -> str:
    """Name the failed check: a signer no given CA issued, an altered token, a wrong EKU."""
    embedded = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    signers = response.signed_data.signer_infos
    signer = next(
        (
            cert
            for cert in embedded
            for info in signers
            if cert.issuer == info.issuer and cert.serial_number == info.serial_number
        ),
        None,
    )
    if signer is None:
        return (
            "The timestamp token does not carry its signer's certificate, so it cannot be "
            "checked (untrusted signer)."
        )
    if not _issued_by_any(signer, embedded, roots):
        return (
            f"The timestamp token is signed by {signer.subject.rfc4514_string()}, whose "
            "certificate none of the given CA certificates issued (untrusted signer)."
        )
    if "EKU" in str(error):
        return (
            f"The timestamp token's signer {signer.subject.rfc4514_string()} is not a "
            "timestamp authority: its certificate lacks the critical timeStamping extended "
            "key usage (untrusted signer)."
        )
    return (
        "The timestamp token's signature does not verify: the token was altered after the "
        "authority signed it, or the authority's certificate was not valid at the stamped time."
    )


def _issued_by_any(
    cert: x509.Certificate, embedded: list[x509.Certificate], roots: list[x509.Certificate]
) -> bool:
    """Whether ``cert`` chains to one of ``roots`` through the token's own certificates."""
    current, seen = cert, 0
    while seen <= len(embedded):
        for root in roots:
            if current == root or _directly_issued(current, root):
                return True
        issuer = next((c for c in embedded if c != current and _directly_issued(current, c)), None)
        if issuer is None:
            return False
        current, seen = issuer, seen + 1
    return False


def _directly_issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
