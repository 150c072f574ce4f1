"""Issue #15, trusted time: RFC 3161 tokens from a timestamp authority, verified offline.

The authority is local (``openssl ts -reply`` behind HTTP on 127.0.0.1, see
tests/audit/tsa_authority.py); no test reaches the network.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from audit.timestamping import (
    TimestampError,
    read_ca_file,
    request_timestamp,
    stamp,
    verify_timestamp,
)
from tests.audit.tsa_authority import LocalTimestampAuthority

HEAD = b"fundflow.local/audit\n42\nq0J1c2V0aGUgaGVhZA==\n"


def _token(authority: LocalTimestampAuthority, data: bytes = HEAD) -> bytes:
    return request_timestamp(data, url=authority.url, timeout=10)


def test_a_token_from_the_local_authority_verifies_and_gives_a_time_within_seconds_of_now(
    local_tsa: LocalTimestampAuthority,
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    token = _token(local_tsa)
    after = datetime.now(UTC)

    stamped_at = verify_timestamp(token, HEAD, [local_tsa.ca_pem])

    assert stamped_at.tzinfo is not None
    assert stamped_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=2) <= stamped_at <= after + timedelta(seconds=2)


def test_the_stored_token_is_the_der_timestamptoken_that_openssl_verifies(
    local_tsa: LocalTimestampAuthority, tmp_path: Path
) -> None:
    """What is kept is the standard token: an auditor can check it with openssl alone."""
    (tmp_path / "token.der").write_bytes(_token(local_tsa))
    (tmp_path / "head").write_bytes(HEAD)
    (tmp_path / "ca.pem").write_bytes(local_tsa.ca_pem)

    result = subprocess.run(
        [
            "openssl", "ts", "-verify", "-token_in", "-in", "token.der",
            "-data", "head", "-CAfile", "ca.pem",
        ],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verification: OK" in result.stdout


def test_a_token_for_other_data_fails_naming_the_imprint(
    local_tsa: LocalTimestampAuthority,
) -> None:
    token = _token(local_tsa)

    with pytest.raises(TimestampError, match=r"imprint mismatch"):
        verify_timestamp(token, HEAD.replace(b"42", b"43"), [local_tsa.ca_pem])


def test_a_token_checked_against_another_ca_fails_naming_the_untrusted_signer(
    local_tsa: LocalTimestampAuthority, other_ca_pem: bytes
) -> None:
    token = _token(local_tsa)

    with pytest.raises(TimestampError, match=r"untrusted signer") as refused:
        verify_timestamp(token, HEAD, [other_ca_pem])
    assert "Fundflow test TSA local" in str(refused.value)


def test_a_token_checked_against_a_bundle_with_the_right_ca_verifies(
    local_tsa: LocalTimestampAuthority, other_ca_pem: bytes
) -> None:
    token = _token(local_tsa)

    assert verify_timestamp(token, HEAD, [other_ca_pem + local_tsa.ca_pem])


def test_a_tampered_token_fails(local_tsa: LocalTimestampAuthority) -> None:
    """Moving the stamped time a year back is caught by the authority's signature."""
    token = _token(local_tsa)
    stamped_at = verify_timestamp(token, HEAD, [local_tsa.ca_pem])
    written = stamped_at.strftime("%Y%m%d%H%M%S").encode()
    assert token.count(written) == 1
    backdated = token.replace(written, f"{stamped_at.year - 1}".encode() + written[4:])

    with pytest.raises(TimestampError, match=r"altered after the authority signed it"):
        verify_timestamp(backdated, HEAD, [local_tsa.ca_pem])


def test_a_truncated_token_fails_as_malformed(local_tsa: LocalTimestampAuthority) -> None:
    token = _token(local_tsa)

    with pytest.raises(TimestampError, match=r"malformed"):
        verify_timestamp(token[: len(token) // 2], HEAD, [local_tsa.ca_pem])
    with pytest.raises(TimestampError, match=r"malformed"):
        verify_timestamp(b"not a token", HEAD, [local_tsa.ca_pem])


def test_a_token_without_any_ca_to_check_against_is_refused(
    local_tsa: LocalTimestampAuthority,
) -> None:
    with pytest.raises(TimestampError, match=r"No CA certificate"):
        verify_timestamp(_token(local_tsa), HEAD, [])
    with pytest.raises(TimestampError, match=r"not a PEM certificate"):
        verify_timestamp(_token(local_tsa), HEAD, [b"-----BEGIN CERTIFICATE-----\nxx\n"])


def test_an_unreachable_url_gives_a_clear_timestamp_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/tsa"

    with pytest.raises(TimestampError) as refused:
        request_timestamp(HEAD, url=url, timeout=2)

    message = str(refused.value)
    assert message.startswith(f"Could not reach the timestamp authority at {url}")
    assert "Traceback" not in message
    assert refused.value.__cause__ is None


def test_an_answer_that_is_no_timestamp_response_gives_a_clear_timestamp_error(
    local_tsa: LocalTimestampAuthority,
) -> None:
    wrong_path = local_tsa.url.replace("/tsa", "/elsewhere")

    with pytest.raises(TimestampError, match=r"answered HTTP 404") as refused:
        request_timestamp(HEAD, url=wrong_path, timeout=5)
    assert wrong_path in str(refused.value)


def test_a_url_that_is_not_http_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(TimestampError, match=r"must start with http:// or https://"):
        request_timestamp(HEAD, url="file:///etc/passwd", timeout=1)


def test_stamp_returns_none_without_tsa_url(settings: Any) -> None:
    settings.AUDIT_TSA_URL = ""

    assert stamp(HEAD) is None


def test_stamp_asks_the_configured_authority_and_checks_its_ca(
    settings: Any, local_tsa: LocalTimestampAuthority, tmp_path: Path
) -> None:
    (tmp_path / "tsa-ca.pem").write_bytes(local_tsa.ca_pem)
    settings.AUDIT_TSA_URL = local_tsa.url
    settings.AUDIT_TSA_CA_FILE = str(tmp_path / "tsa-ca.pem")
    settings.AUDIT_TSA_TIMEOUT_SECONDS = 10

    token = stamp(HEAD)

    assert token is not None
    assert verify_timestamp(token, HEAD, read_ca_file(tmp_path / "tsa-ca.pem"))
    info_hash = hashlib.sha256(HEAD).digest()
    assert info_hash in token


def test_stamp_with_a_ca_file_that_did_not_issue_the_authority_fails_at_once(
    settings: Any, local_tsa: LocalTimestampAuthority, other_ca_pem: bytes, tmp_path: Path
) -> None:
    (tmp_path / "wrong-ca.pem").write_bytes(other_ca_pem)
    settings.AUDIT_TSA_URL = local_tsa.url
    settings.AUDIT_TSA_CA_FILE = str(tmp_path / "wrong-ca.pem")

    with pytest.raises(TimestampError, match=r"untrusted signer"):
        stamp(HEAD)


def test_stamp_with_a_missing_ca_file_names_the_file(
    settings: Any, local_tsa: LocalTimestampAuthority, tmp_path: Path
) -> None:
    settings.AUDIT_TSA_URL = local_tsa.url
    settings.AUDIT_TSA_CA_FILE = str(tmp_path / "absent.pem")

    with pytest.raises(TimestampError, match=r"absent\.pem \(AUDIT_TSA_CA_FILE\)"):
        stamp(HEAD)


def test_the_timestamp_verification_imports_without_django() -> None:
    """The offline verifier runs on an auditor's machine where Django is not set up."""
    script = (
        "import sys, audit.timestamping; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) "
        "else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr or "audit.timestamping imported Django"


def test_an_authority_that_does_not_answer_in_time_gives_a_clear_timestamp_error() -> None:
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/tsa"

        with pytest.raises(TimestampError, match=r"timed out") as refused:
            request_timestamp(HEAD, url=url, timeout=0.5)

    assert url in str(refused.value)


def test_a_token_verifies_whatever_order_the_authority_lists_its_certificates_in(
    local_tsa: LocalTimestampAuthority,
) -> None:
    """openssl-based authorities break DER's sorted SET OF; the unsigned order must not matter."""
    token = _token(local_tsa)
    certificates = sorted(
        x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
        for pem in (local_tsa.ca_pem, (local_tsa.folder / "local-tsa.pem").read_bytes())
    )
    in_der_order = b"".join(certificates)
    assert token.count(in_der_order) == 1
    reversed_order = token.replace(in_der_order, b"".join(reversed(certificates)))

    for listed in (token, reversed_order):
        assert verify_timestamp(listed, HEAD, [local_tsa.ca_pem])
