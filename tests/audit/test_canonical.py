"""The canonical encoding: one spelling per event, the verifier's fast path agreeing with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import (
    HASHED_FIELDS,
    NotCanonicalisable,
    canonical_bytes,
    checkpoint_message,
    format_timestamp,
    normalise,
    stored_event_bytes,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    sequence=st.integers(min_value=1, max_value=2**62),
    actor_id=st.none() | st.integers(min_value=1, max_value=2**62),
    texts=st.lists(st.text(max_size=30), min_size=5, max_size=5),
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)
def test_the_fast_encoding_is_the_canonical_encoding(sequence, actor_id, texts, payload):
    role, action, object_type, object_ref, prev_hash = texts
    moment = "2026-11-23T01:02:03.000004Z"
    fields = dict(
        zip(
            HASHED_FIELDS,
            (sequence, moment, actor_id, role, action, object_type, object_ref, payload, prev_hash),
            strict=True,
        )
    )
    assert stored_event_bytes(**fields) == canonical_bytes(fields)


def test_keys_are_sorted_and_there_is_no_whitespace():
    assert canonical_bytes({"b": 1, "a": [1, {"d": None, "c": "å"}]}) == (
        '{"a":[1,{"c":"å","d":null}],"b":1}'.encode()
    )


def test_decimals_become_strings_and_floats_are_refused():
    assert normalise({"amount": Decimal("1500.50")}) == {"amount": "1500.50"}
    with pytest.raises(NotCanonicalisable):
        normalise({"amount": 1500.5})
    with pytest.raises(NotCanonicalisable):
        normalise({1: "x"})


def test_one_instant_has_one_spelling():
    stockholm = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=stockholm)) == (
        "2026-01-02T02:04:05.000000Z"
    )
    assert format_timestamp(datetime(2026, 1, 2, 2, 4, 5, 7, tzinfo=UTC)) == (
        "2026-01-02T02:04:05.000007Z"
    )
    with pytest.raises(NotCanonicalisable):
        format_timestamp(datetime(2026, 1, 2))


def test_a_checkpoint_message_names_its_purpose():
    assert checkpoint_message(7, "ab") == (
        b'{"hash":"ab","purpose":"fundflow-audit-checkpoint/v1","sequence":7}'
    )
