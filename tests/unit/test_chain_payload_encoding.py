"""audit.chain's payload encoding for storage that keeps no text (PostgreSQL's jsonb).

There the verifier parses every stored payload and encodes it again with a C encoder built
once (not ``JSONEncoder.encode``, which builds one a call); these tests pin down that the two
spell every payload alike and that the walk in that mode judges as the canonical walk does.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import (
    GENESIS_HASH,
    HASHED_FIELDS,
    canonical_bytes,
    normalise,
    stored_text_bytes,
)
from audit.chain import (
    Problem,
    canonical_payload_text,
    encode_payload,
    event_text_bytes,
    walk,
)

TRICKY = "å\"\\\n\t\x00\x1f\x7f\u2028💶 '</script>"

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
payloads = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _jsonb_spelling(payload: object) -> str:
    """Roughly how PostgreSQL prints jsonb: spaces after separators, keys not in code-point
    order (shortest first), non-ASCII escaped here for good measure."""

    def reorder(value: object) -> object:
        if isinstance(value, dict):
            return {k: reorder(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
        if isinstance(value, list):
            return [reorder(v) for v in value]
        return value

    return json.dumps(reorder(normalise(payload)))


@given(payloads)
def test_the_payload_encoder_spells_as_the_canonical_encoding(payload):
    value = normalise(payload)
    assert encode_payload(value).encode() == canonical_bytes(value)


@given(payloads)
def test_any_spelling_of_a_payload_comes_back_canonical(payload):
    assert canonical_payload_text(_jsonb_spelling(payload)).encode() == canonical_bytes(payload)


def test_text_that_is_not_one_json_value_comes_back_as_a_string():
    for text in ('{"a": 1} ', '{"a":1},"prev_hash":"x"', "", "{"):
        assert canonical_payload_text(text) == json.dumps(text, ensure_ascii=False)


@given(
    sequence=st.integers(min_value=1, max_value=2**62),
    actor_id=st.none() | st.integers(min_value=1, max_value=2**62),
    texts=st.lists(st.text(max_size=30), min_size=5, max_size=5),
)
def test_a_row_spliced_with_its_payload_text_gives_the_canonical_text_bytes(
    sequence, actor_id, texts
):
    role, action, object_type, object_ref, prev_hash = texts
    moment = "2026-11-23T01:02:03.000004Z"
    row = (sequence, moment, actor_id, role, action, object_type, object_ref, '{"a":1}')
    assert event_text_bytes((*row, prev_hash, "h"), '{"a":1}') == stored_text_bytes(*row, prev_hash)


def _rows(payloads_: list[object]) -> list[tuple[object, ...]]:
    """Rows as the PostgreSQL query yields them: the payload as jsonb prints it."""
    rows, prev = [], GENESIS_HASH
    for sequence, payload in enumerate(payloads_, start=1):
        values = (sequence, "2026-11-23T01:02:03.000004Z", 7, "officer", TRICKY, "application",
                  "A-2026-000001", normalise(payload), prev)  # fmt: skip
        digest = hashlib.sha256(canonical_bytes(dict(zip(HASHED_FIELDS, values, strict=True))))
        rows.append((*values[:7], _jsonb_spelling(payload), prev, digest.hexdigest()))
        prev = digest.hexdigest()
    return rows


@given(st.lists(payloads, min_size=1, max_size=4))
def test_the_walk_over_text_that_is_never_canonical_agrees_with_the_canonical_walk(
    chain_payloads,
):
    rows = _rows(chain_payloads)
    parsed = [(*row[:7], json.loads(row[7]), *row[8:]) for row in rows]
    assert walk(parsed).ok
    assert walk(rows, payload_text=True, canonical_text=False).ok


def test_a_changed_payload_is_a_break_when_every_payload_is_re_encoded():
    rows = _rows([{"to": "submitted", "amount": Decimal("1500.50")}] * 3)
    rows[1] = (*rows[1][:7], '{"to": "submitted", "amount": "1500.51"}', *rows[1][8:])
    outcome = walk(rows, payload_text=True, canonical_text=False)
    assert outcome.broken is not None
    assert (outcome.broken.sequence, outcome.broken.problem) == (2, Problem.MODIFIED)
    assert outcome.entries == 1


def test_a_changed_field_beside_the_payload_is_a_break_when_every_payload_is_re_encoded():
    rows = _rows([{"to": "submitted"}] * 3)
    rows[2] = (*rows[2][:4], "application.decide", *rows[2][5:])
    outcome = walk(rows, payload_text=True, canonical_text=False)
    assert outcome.broken is not None
    assert (outcome.broken.sequence, outcome.broken.problem) == (3, Problem.MODIFIED)
