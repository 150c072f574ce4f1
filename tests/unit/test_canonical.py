"""audit.canonical: the project's canonical JSON (RFC 8785 in spirit) and the event hash.

Vectors marked "RFC 8785" are from RFC 8785 section 3.2 (the parts the project's rules share:
strings, literals, key order over ASCII and the Basic Multilingual Plane below U+D800).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from audit.canonical import (
    GENESIS_HASH,
    HASHED_FIELDS,
    CanonicalJSONEncoder,
    NotCanonicalisable,
    canonical_bytes,
    event_hash,
    format_timestamp,
    normalise,
    stored_text_bytes,
)

EVENT = {
    "sequence": 1,
    "occurred_at": "2026-01-02T03:04:05.000006Z",
    "actor_id": 7,
    "actor_role": "officer",
    "action": "application.submit",
    "object_type": "application",
    "object_ref": "A-2026-000001",
    "payload": {"to": "submitted"},
    "prev_hash": GENESIS_HASH,
}


def test_canonical_json_sorts_keys_by_code_point():
    assert canonical_bytes({"b": 1, "B": 2, "a": 3, "é": 4, "_": 5}) == (
        '{"B":2,"_":5,"a":3,"b":1,"é":4}'.encode()
    )


def test_canonical_json_orders_keys_as_rfc_8785_within_the_basic_plane():
    # RFC 8785 section 3.2.3's keys without the one outside the BMP (see the next test).
    value = dict.fromkeys(["\u20ac", "\r", "\ufb33", "1", "\u0080", "\u00f6"], 0)
    assert canonical_bytes(value) == (
        '{"\\r":0,"1":0,"\u0080":0,"\u00f6":0,"\u20ac":0,"\ufb33":0}'.encode()
    )


def test_canonical_json_puts_a_key_beyond_the_basic_plane_after_u_fb33_unlike_rfc_8785():
    # RFC 8785 sorts by UTF-16 code units (U+1F600 is D83D DE00, before FB33); the project
    # sorts by code point. Payload keys are codes (ASCII), where both orders agree.
    assert canonical_bytes({"\U0001f600": 0, "\ufb33": 0}) == '{"\ufb33":0,"\U0001f600":0}'.encode()


def test_canonical_json_escapes_strings_as_rfc_8785():
    value = {"literals": [None, True, False], "string": '\u20ac$\u000f\nA\'B"\\\\"/'}
    assert canonical_bytes(value) == (
        b'{"literals":[null,true,false],"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


def test_canonical_json_has_no_whitespace_between_tokens():
    assert canonical_bytes({"a": [1, 2], "b": {"c": None}}) == b'{"a":[1,2],"b":{"c":null}}'


def test_canonical_json_writes_non_ascii_as_utf8_not_escapes():
    assert canonical_bytes("Ärende å") == '"Ärende å"'.encode()


def test_canonical_json_writes_big_integers_exactly():
    assert canonical_bytes(2**64 + 1) == b"18446744073709551617"


def test_a_float_is_refused_because_it_has_no_canonical_form():
    with pytest.raises(NotCanonicalisable, match="floats"):
        normalise(0.1)


def test_a_decimal_travels_as_its_exact_digits_in_a_string():
    assert canonical_bytes({"amount": Decimal("1500.50")}) == b'{"amount":"1500.50"}'


def test_a_decimal_keeps_the_exponent_it_was_given():
    """Amounts are quantized to öre before they are logged; the encoding adds no rounding."""
    assert normalise(Decimal("1.5")) == "1.5"
    assert normalise(Decimal("1E+3")) == "1000"


def test_a_boolean_stays_a_boolean_not_an_integer():
    assert canonical_bytes([True, 1]) == b"[true,1]"


def test_a_tuple_is_written_as_a_list():
    assert canonical_bytes(("a", 1)) == b'["a",1]'


def test_a_key_that_is_not_a_string_is_refused():
    with pytest.raises(NotCanonicalisable, match="keys must be strings"):
        normalise({1: "x"})


def test_a_set_is_refused_because_it_has_no_order():
    with pytest.raises(NotCanonicalisable, match="set"):
        normalise({"codes": {"a", "b"}})


def test_a_lone_surrogate_is_refused_as_not_canonicalisable():
    with pytest.raises(NotCanonicalisable):
        canonical_bytes({"code": "\ud800"})


def test_a_timestamp_is_written_in_utc_with_microseconds_and_z():
    stockholm = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 6, 1, 12, 0, tzinfo=stockholm)) == (
        "2026-06-01T10:00:00.000000Z"
    )


def test_a_timestamp_before_year_1000_keeps_four_year_digits():
    assert format_timestamp(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"


def test_a_naive_timestamp_is_refused():
    with pytest.raises(NotCanonicalisable, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))


def test_a_datetime_in_a_payload_becomes_its_canonical_timestamp():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert normalise({"at": moment}) == {"at": "2026-01-02T03:04:05.000000Z"}


def test_event_hash_is_sha256_of_the_canonical_hashed_fields():
    assert event_hash(EVENT) == hashlib.sha256(canonical_bytes(EVENT)).hexdigest()


def test_event_hash_ignores_fields_it_does_not_cover():
    assert event_hash({**EVENT, "id": 99, "received_at": "x"}) == event_hash(EVENT)


def test_event_hash_changes_with_every_hashed_field():
    other: dict[str, object] = {
        "sequence": 2,
        "actor_id": None,
        "payload": {},
        "prev_hash": "1" * 64,
    }
    hashes = {event_hash({**EVENT, name: other.get(name, "other")}) for name in HASHED_FIELDS}
    assert len(hashes) == len(HASHED_FIELDS) and event_hash(EVENT) not in hashes


def test_event_hash_refuses_an_event_missing_a_hashed_field():
    event = {k: v for k, v in EVENT.items() if k != "prev_hash"}
    with pytest.raises(KeyError, match="prev_hash"):
        event_hash(event)


def test_the_first_event_links_to_the_genesis_hash_of_64_zeros():
    assert GENESIS_HASH == "0" * 64


def test_the_payload_encoder_stores_the_canonical_text():
    payload = {"b": "å", "a": [1, None]}
    assert CanonicalJSONEncoder().encode(payload).encode() == canonical_bytes(payload)


def test_stored_text_with_the_canonical_payload_equals_the_canonical_event_bytes():
    fields = {**EVENT, "payload_text": '{"to":"submitted"}'}
    del fields["payload"]
    assert stored_text_bytes(**fields) == canonical_bytes(EVENT)
