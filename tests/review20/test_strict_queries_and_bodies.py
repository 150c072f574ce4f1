"""Review of #20: strict input on the new endpoints. A query parameter, a body field or a
bank file the API does not understand is refused (400, naming it), never silently dropped,
and odd input never answers 500."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounting.models import OrderStatus, PaymentOrder
from tests.accounting.bank_files import camt054
from tests.review20.helpers import exported_batch, upload

pytestmark = pytest.mark.django_db

VOUCHERS = "/api/v1/books/vouchers/"
EVENTS = "/api/v1/audit/events/"
LISTS = [
    ("treasurer", VOUCHERS),
    ("treasurer", "/api/v1/books/accounts/"),
    ("treasurer", "/api/v1/books/funds/"),
    ("auditor", EVENTS),
    ("auditor", "/api/v1/audit/checkpoints/"),
]


@pytest.mark.parametrize("role,url", LISTS)
@pytest.mark.parametrize("page_size", ["0", "101", "-1", "abc", "1.5", "99999999999999999999"])
def test_a_page_size_outside_1_to_100_is_refused_on_every_new_list(
    world, as_role, role, url, page_size
):
    response = as_role(role).get(url, {"page_size": page_size})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"page_size"}


@pytest.mark.parametrize("role,url", LISTS)
@pytest.mark.parametrize("page", ["999999999", "last"])
def test_a_huge_page_number_is_not_found_never_a_500(world, as_role, role, url, page):
    response = as_role(role).get(url, {"page": page})

    assert response.status_code in (200, 404)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "query",
    [
        {"year": "0"},
        {"year": "abc"},
        {"year": "99999999999999999999"},
        {"date_from": "2026-02-30"},
        {"date_to": "2026-13-01"},
        {"series": "Z"},
        {"fund": "../../etc"},
        {"fund": "a\x00b"},
    ],
)
def test_an_odd_voucher_filter_is_a_400_naming_it(world, as_role, query):
    response = as_role("treasurer").get(VOUCHERS, query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


@pytest.mark.parametrize(
    "query",
    [
        {"year": "0"},
        {"date_to": "2026-02-30"},
        {"date_to": f"{timezone.localdate().year + 5}-01-01"},
    ],
)
def test_an_odd_trial_balance_query_is_a_400_naming_it(world, as_role, query):
    response = as_role("auditor").get("/api/v1/books/trial-balance/", query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) <= {"year", "date_to"}


@pytest.mark.parametrize(
    "query",
    [
        {"after": "-1"},
        {"after": "1e3"},
        {"actor": "0"},
        {"actor": "abc"},
        {"action": "x" * 81},
        {"object_ref": "a\x00b"},
    ],
)
def test_an_odd_audit_filter_is_a_400_naming_it(world, as_role, query):
    response = as_role("auditor").get(EVENTS, query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


@pytest.mark.parametrize("query", [{"after": "99999999999999999999"}, {"actor": "9" * 20}])
def test_an_audit_filter_beyond_any_sequence_answers_without_a_500(world, as_role, query):
    response = as_role("auditor").get(EVENTS, query)

    assert response.status_code in (200, 400)
    assert response["Content-Type"].startswith("application/json")


def test_an_audit_event_number_beyond_any_sequence_is_a_404(world, as_role):
    response = as_role("auditor").get(f"{EVENTS}{'9' * 25}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "query", [{"serie": "B"}, {"fund_code": "allmant"}, {"from": "2026-01-01"}]
)
def test_an_unknown_voucher_filter_is_refused_not_ignored(world, as_role, query):
    response = as_role("treasurer").get(VOUCHERS, query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


def test_an_unknown_trial_balance_parameter_is_refused_not_ignored(world, as_role):
    today = timezone.localdate()
    response = as_role("treasurer").get(
        "/api/v1/books/trial-balance/", {"date_from": today.isoformat()}
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"date_from"}


@pytest.mark.parametrize("query", [{"acton": "application.approve"}, {"sequence": "3"}])
def test_an_unknown_audit_filter_is_refused_not_ignored(world, as_role, query):
    world.to_approved(world.new_application("1500"))

    response = as_role("auditor").get(EVENTS, query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


def test_a_filter_given_twice_is_refused_not_half_ignored(world, as_role):
    response = as_role("treasurer").get(f"{VOUCHERS}?series=B&series=D")

    assert response.status_code == 400
    assert "series" in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "used_as_intended", "note": "x"},
        {"outcome": "used_as_intended", "evidence_reference": None},
        {"outcome": "used_as_intended", "evidence_reference": "x" * 5000},
        {"outcome": "USED"},
        {},
        [],
        "used_as_intended",
    ],
)
def test_an_odd_follow_up_body_is_a_400_and_records_nothing(world, as_role, body):
    from workflows.models import FollowUp

    app = world.to_paid(world.new_application("800"))

    response = as_role("officer").post(
        f"/api/v1/applications/{app.reference}/follow-up/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not FollowUp.objects.exists()


def test_a_follow_up_body_that_is_no_json_is_a_parse_error(world, as_role):
    app = world.to_paid(world.new_application("800"))

    response = as_role("officer").post(
        f"/api/v1/applications/{app.reference}/follow-up/",
        data=b'{"outcome": ',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + ']><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&lol9;</Document>'
).replace("&lol0;", "&lol;")


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-32"])
def test_an_xml_bomb_in_any_encoding_is_refused_and_books_nothing(world, as_role, codec):
    _app, _batch = exported_batch(world, "700")
    content = BOMB.replace('version="1.0"', f'version="1.0" encoding="{codec}"').encode(codec)

    response = upload(as_role("treasurer"), content)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_a_bank_file_with_an_external_entity_reads_no_file(world, as_role):
    _app, _batch = exported_batch(world, "700")
    content = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&x;</Document>'
    )

    response = upload(as_role("treasurer"), content)

    assert response.status_code == 400
    assert b"root:" not in response.content


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   ",
        b"\xff\xfe\x00garbage",
        '<?xml version="1.0" encoding="UTF-8"?><Document>ÅÄÖ</Document>'.encode("latin-1"),
        b"<?xml version='1.0'?><Document xmlns='urn:x'/>",
        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.002.001.03'/>",
        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.054.001.02'><Ntry>"
        b"<Amt Ccy='SEK'>NaN</Amt><Sts>BOOK</Sts><BookgDt><Dt>2026-02-30</Dt></BookgDt>"
        b"<NtryDtls><TxDtls><Refs><EndToEndId>PO-99999999999999999999</EndToEndId></Refs>"
        b"</TxDtls></NtryDtls></Ntry></Document>",
    ],
)
def test_an_odd_bank_file_is_a_400_in_json_and_books_nothing(world, as_role, content):
    _app, _batch = exported_batch(world, "700")

    response = upload(as_role("treasurer"), content)

    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "validation_failed"
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED


def test_a_bank_file_sent_as_another_type_is_still_read_only_within_the_json_limit(world, as_role):
    """A 6 MB body is refused before it is read, whatever the type it claims."""
    _app, batch = exported_batch(world, "700")
    (order,) = PaymentOrder.objects.filter(batch=batch)
    content = camt054([(order, "2026-11-24", "")])
    big = content.replace(b"<GrpHdr>", b"<!--" + b" " * (6 * 1024 * 1024) + b"--><GrpHdr>")

    for content_type in ("application/xml", "application/octet-stream", "text/plain"):
        response = upload(as_role("treasurer"), big, content_type)
        assert response.status_code == 413, content_type
        assert response.json()["code"] == "request_too_large"
    assert PaymentOrder.objects.get().status == OrderStatus.SCHEDULED
