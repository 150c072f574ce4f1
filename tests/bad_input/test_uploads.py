"""Oversized uploads and wrong content types: a clear 4xx, nothing stored, nothing read in vain.

The web upload (the admin's time-sheet import) and the API's JSON bodies. Bodies above the
limits are refused from their declared size before anything reads them (413); a file of the
wrong kind is a form error at the file field; the API answers every body that is not a JSON
object with a JSON error (415 or 400).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from cofinancing.demo import seed_cofinancing
from config.request_limits import RequestSizeLimitMiddleware
from tests.bad_input.conftest import snapshot
from tests.cofinancing.test_time_sheet_import import GOOD, _csv
from tests.factories import UserFactory
from tests.signin import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("bad_input")]

IMPORT_URL = "/admin/cofinancing/timesheetentry/import/"
API_URL = "/api/v1/applications/"
GIB = 1024**3


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    seed_cofinancing()
    user = UserFactory(roles=["treasurer"])
    user.is_staff = user.is_superuser = True
    user.save()
    return sign_in(client, user)


def _upload(client: Any, content: bytes, name: str, fmt: str, **extra: Any) -> Any:
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(IMPORT_URL, {"file": file, "format": fmt, "commit": "on"}, **extra)


def _field_errors(response: Any) -> list[str]:
    form = response.context["form"]
    return [str(e) for e in form.errors.get("file", [])]


@pytest.mark.parametrize(
    ("tried", "content", "name", "fmt", "expect"),
    [
        ("a PNG image as CSV", b"\x89PNG\r\n\x1a\n" + bytes(300), "scan.png", "csv", "not UTF-8"),
        ("a CSV file as XLSX", _csv(*GOOD), "tid.csv", "xlsx", "could not be read as XLSX"),
        ("an empty file", b"", "tom.csv", "csv", "The submitted file is empty."),
    ],
)
def test_a_file_of_the_wrong_kind_is_a_form_error(
    admin_client, evidence, tried, content, name, fmt, expect
):  # type: ignore[no-untyped-def]
    """A file of the wrong kind on the upload page: the form comes back with the reason"""
    before = snapshot()
    response = _upload(admin_client, content, name, fmt)
    errors = _field_errors(response)
    assert response.status_code == 200 and any(expect in e for e in errors), errors
    assert snapshot() == before
    evidence.row(
        tried=f"admin time-sheet upload: {tried} ({len(content)} bytes, format {fmt.upper()})",
        outcome=f"200, form error at “File”: “{' '.join(errors)[:200]}”; nothing stored",
    )


def test_an_upload_declaring_1_gib_is_refused_before_it_is_read(admin_client, evidence):  # type: ignore[no-untyped-def]
    """An upload declaring 1 GiB is answered 413 at once; the body is never read"""
    before = snapshot()
    # The test client's body holds a few bytes; reading the declared GiB would fail loudly.
    response = admin_client.generic(
        "POST",
        IMPORT_URL,
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(GIB),
    )
    assert response.status_code == 413
    assert "at most 5.0" in response.content.decode()
    assert snapshot() == before
    evidence.row(
        tried="admin time-sheet upload declaring Content-Length: 1 GiB",
        outcome=f"413 “{_text(response)}” before the body is read; nothing stored",
    )


def test_a_real_6_mb_upload_is_refused(admin_client, evidence):  # type: ignore[no-untyped-def]
    """A real 6 MB file to the time-sheet upload is refused with 413"""
    before = snapshot()
    response = _upload(admin_client, b"a" * (6 * 1024 * 1024), "stor.csv", "csv")
    assert response.status_code == 413
    assert snapshot() == before
    evidence.row(
        tried="admin time-sheet upload of a 6 MB file (limit UPLOAD_MAX_BYTES = 5 MB)",
        outcome=f"413 “{_text(response)}”; nothing stored",
    )


def test_a_file_over_the_limit_inside_a_small_request_is_a_form_error(
    admin_client, settings, evidence
):  # type: ignore[no-untyped-def]
    """A file over the per-file limit is a translated form error, even when the request fits"""
    settings.UPLOAD_MAX_BYTES = 1000
    before = snapshot()
    response = _upload(admin_client, _csv(*GOOD * 10), "tid.csv", "csv")
    errors = _field_errors(response)
    assert response.status_code == 200
    assert any("at most 1000" in e for e in errors), errors
    assert snapshot() == before
    evidence.row(
        tried="admin time-sheet upload of a 2 kB file with UPLOAD_MAX_BYTES = 1000",
        outcome=f"200, form error at “File”: “{' '.join(errors)}”; nothing stored",
    )


class _Unreadable(io.BytesIO):
    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")


def test_the_size_limit_answers_without_reading_the_body(evidence):  # type: ignore[no-untyped-def]
    """The size limit answers from Content-Length alone: the body is never read"""
    request = RequestFactory().post(
        IMPORT_URL, data=b"", content_type="multipart/form-data; boundary=x"
    )
    request.META["CONTENT_LENGTH"] = str(10 * GIB)
    request.META["wsgi.input"] = _Unreadable()

    def view(_request: Any) -> Any:
        raise AssertionError("the view ran")

    response = RequestSizeLimitMiddleware(view)(request)
    assert response.status_code == 413
    evidence.row(
        tried="a 10 GiB multipart request whose body raises when read",
        outcome="413 from Content-Length alone: neither the body nor the view was touched",
    )


def _text(response: Any) -> str:
    content = response.content.decode()
    if response["Content-Type"].startswith("application/json"):
        return json.loads(content)["detail"]
    return content.rsplit("<p>", 1)[-1].removesuffix("</p>")


BODY = {
    "fund": "allmant",
    "person": {"name": "Testa Testsson"},
    "items": [{"category": "glasses", "amount": "100"}],
}
GOOD_JSON = json.dumps(BODY).encode()
WRONG_BODIES = [
    ("Content-Type: text/plain (a JSON text)", GOOD_JSON, "text/plain", 415),
    ("Content-Type: application/xml", b"<application/>", "application/xml", 415),
    (
        "multipart/form-data",
        b'--x\r\nContent-Disposition: form-data; name="fund"\r\n\r\nallmant\r\n--x--\r\n',
        "multipart/form-data; boundary=x",
        415,
    ),
    ("form-encoded", b"fund=allmant", "application/x-www-form-urlencoded", 415),
    ("malformed JSON (cut off)", GOOD_JSON[:20], "application/json", 400),
    ("a JSON array instead of an object", b"[1, 2]", "application/json", 400),
    ("a JSON number instead of an object", b"42", "application/json", 400),
    ("JSON null", b"null", "application/json", 400),
    ("an empty body", b"", "application/json", 400),
    (
        "Latin-1 bytes declared as UTF-8 JSON",
        GOOD_JSON.replace(b"Testa", "Åsa".encode("latin-1")),
        "application/json; charset=utf-8",
        400,
    ),
    ("UTF-16 JSON", json.dumps(BODY).encode("utf-16"), "application/json", 400),
    ("JSON nested 100 000 levels deep", b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    ("NaN as an amount", GOOD_JSON.replace(b'"100"', b"NaN"), "application/json", 400),
    ("1e999 as an amount", GOOD_JSON.replace(b'"100"', b"1e999"), "application/json", 400),
    (
        "a NUL character in the name",
        GOOD_JSON.replace(b"Testa", b"Tes\\u0000ta"),
        "application/json",
        400,
    ),
    (
        "a 2 MB JSON body (limit DATA_UPLOAD_MAX_MEMORY_SIZE = 1 MB)",
        GOOD_JSON.replace(b"Testa", b"T" * (2 * 1024 * 1024)),
        "application/json",
        413,
    ),
]


@pytest.mark.parametrize(
    ("tried", "body", "content_type", "status"),
    WRONG_BODIES,
    ids=[w[0] for w in WRONG_BODIES],
)
def test_the_api_answers_bodies_that_are_not_a_json_object_with_a_json_error(
    as_role, evidence, tried, body, content_type, status
):  # type: ignore[no-untyped-def]
    """API bodies of the wrong type, encoding, shape or size: a JSON 4xx, nothing written"""
    client = as_role("ombud")
    before = snapshot()
    response = client.generic("POST", API_URL, body, content_type=content_type)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail and response.json()["messages"]
    assert snapshot() == before
    evidence.row(
        tried=f"POST {API_URL} with {tried}",
        outcome=f"{status} “{detail[:160]}”; no row written",
    )


def test_an_unknown_charset_is_read_as_utf8(as_role, evidence):  # type: ignore[no-untyped-def]
    """A JSON body with charset=nonsense is read as UTF-8 (what JSON is) and accepted"""
    response = as_role("ombud").generic(
        "POST", API_URL, GOOD_JSON, content_type="application/json; charset=nonsense"
    )
    assert response.status_code == 201
    evidence.row(
        tried=f"POST {API_URL} with Content-Type: application/json; charset=nonsense",
        outcome=f"201: read as UTF-8, application {response.json()['reference']} created",
    )


def test_the_refusals_speak_swedish(client, evidence):  # type: ignore[no-untyped-def]
    """The limits' refusals are in Swedish for a Swedish user (the default language)"""
    response = client.generic(
        "POST",
        API_URL,
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(2 * 1024 * 1024),
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail.startswith("Förfrågan är 2,0\u00a0MB; högst 1,0\u00a0MB kan skickas")
    evidence.row(
        tried=f"POST {API_URL} declaring 2 MB, Accept-Language: sv",
        outcome=f"413 “{detail}”",
    )
