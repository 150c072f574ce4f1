"""The verifier's fast path: payloads hashed as their stored text, canonical text as written.

``record_event`` stores each payload as canonical JSON text, so the verifier can hash the
text as it is (``canonical.stored_text_bytes``) without parsing it. These tests pin down
that this agrees with the canonical definition, that it is taken, and that text spelt
differently from the canonical form is re-encoded before it is judged: semantically equal
JSON verifies (the hash is defined over the canonical form), anything else is a break.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from unittest import mock

from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from audit import chain as chain_module
from audit import verification  # noqa: F401  # bound before any test patches parse_payload
from audit.canonical import (
    GENESIS_HASH,
    HASHED_FIELDS,
    CanonicalJSONEncoder,
    canonical_bytes,
    normalise,
    stored_text_bytes,
)
from audit.chain import Problem, walk
from tests.audit.conftest import attacker, verify

TRICKY = "å\"\\\n\t\x00\x1f\u2028💶 '</script>"

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
payloads = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    ),
    max_size=5,
)


def _canonical_text(payload: object) -> str:
    return json.dumps(normalise(payload), cls=CanonicalJSONEncoder)


def _chain(payloads_: list[object], spell=_canonical_text) -> list[tuple[object, ...]]:
    """Rows as ``stored_rows`` yields them, each payload stored as ``spell`` writes it."""
    rows, prev = [], GENESIS_HASH
    for sequence, payload in enumerate(payloads_, start=1):
        fields = dict(
            zip(
                HASHED_FIELDS,
                (sequence, "2026-11-23T01:02:03.000004Z", 7, "officer", TRICKY, "application",
                 "A-2026-000001", normalise(payload), prev),
                strict=True,
            )
        )  # fmt: skip
        digest = hashlib.sha256(canonical_bytes(fields)).hexdigest()
        rows.append((*[fields[n] for n in HASHED_FIELDS[:7]], spell(payload), prev, digest))
        prev = digest
    return rows


@given(
    sequence=st.integers(min_value=1, max_value=2**62),
    actor_id=st.none() | st.integers(min_value=1, max_value=2**62),
    texts=st.lists(st.text(max_size=30), min_size=5, max_size=5),
    payload=payloads,
)
def test_canonical_stored_text_gives_the_canonical_bytes(sequence, actor_id, texts, payload):
    role, action, object_type, object_ref, prev_hash = texts
    moment = "2026-11-23T01:02:03.000004Z"
    values = (sequence, moment, actor_id, role, action, object_type, object_ref)
    fields = dict(zip(HASHED_FIELDS, (*values, payload, prev_hash), strict=True))
    text = _canonical_text(payload)
    assert stored_text_bytes(*values, text, prev_hash) == canonical_bytes(fields)


@given(st.lists(payloads, min_size=1, max_size=4))
def test_the_walk_over_stored_text_agrees_with_the_canonical_walk(chain_payloads):
    canonical = _chain(chain_payloads)
    parsed = [(*row[:7], json.loads(row[7]), *row[8:]) for row in canonical]
    assert walk(parsed).ok
    with mock.patch.object(chain_module, "parse_payload", side_effect=AssertionError):
        assert walk(canonical, payload_text=True).ok  # canonical text: never parsed
    # Django's default spelling (spaces, unsorted keys, \u escapes): re-encoded, still OK.
    spell = lambda payload: json.dumps(normalise(payload))  # noqa: E731
    assert walk(_chain(chain_payloads, spell=spell), payload_text=True).ok


def test_big_integers_unicode_quotes_backslashes_and_nesting():
    payload = {
        "z": 2**70,
        "amount": Decimal("1500.50"),
        "ä": [TRICKY, {"b": None, "a": [True, False, -(2**64)]}],
        "": {"\\": '"', "k": {"deep": ["x"]}},
    }
    text = _canonical_text(payload)
    assert '"amount":"1500.50"' in text and "å" in text
    assert walk(_chain([payload]), payload_text=True).ok
    assert walk(_chain([payload], spell=lambda p: json.dumps(normalise(p))), payload_text=True).ok


def test_a_changed_payload_text_is_a_break_even_when_the_old_text_was_not_canonical():
    rows = _chain([{"a": 1}, {"a": 2}], spell=json.dumps)
    rows[1] = (*rows[1][:7], '{"a": 3}', *rows[1][8:])
    outcome = walk(rows, payload_text=True)
    assert outcome.broken is not None
    assert (outcome.broken.sequence, outcome.broken.problem) == (2, Problem.MODIFIED)


def test_payload_text_that_is_not_one_json_value_is_a_break():
    rows = _chain([{"a": 1}])
    for text in ('{"a":1} ', '{"a":1},"prev_hash":"x"', "", "{"):
        broken = walk([(*rows[0][:7], text, *rows[0][8:])], payload_text=True).broken
        assert broken is not None and broken.problem == Problem.MODIFIED, text


def _stored_text(sequence: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST(payload AS TEXT) FROM audit_auditevent WHERE sequence = %s", [sequence]
        )
        return cursor.fetchone()[0]


def _write_text(sequence: int, text: str) -> None:
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with attacker(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE audit_auditevent SET payload = %s{cast} WHERE sequence = %s",  # noqa: S608
            [text, sequence],
        )


def test_record_event_stores_the_canonical_text_and_the_verifier_does_not_parse_it(chain):
    """On SQLite the stored text is canonical and hashed as is; PostgreSQL's jsonb keeps no
    text, so there the verifier parses (and still verifies)."""
    events = chain(5)
    if connection.vendor != "sqlite":
        status, output = verify()
        assert status == 0, output
        return
    assert _stored_text(3) == _canonical_text(events[2].payload)
    with mock.patch.object(chain_module, "parse_payload", side_effect=AssertionError):
        status, output = verify()
    assert status == 0, output


def test_equivalent_payload_text_written_directly_verifies(chain):
    """Same JSON, spelt otherwise: the hash covers the canonical form, so it still holds."""
    chain(5)
    _write_text(3, '{ "to" : "submitted",\n "step": 2, "amount": "1500\\u002e50" }')
    status, output = verify()
    assert status == 0, output
    assert "intact: 5 entries" in output


def test_different_payload_text_written_directly_is_found(chain):
    chain(5)
    _write_text(3, '{ "to" : "submitted", "step": 2, "amount": "1500.51" }')
    status, output = verify()
    assert status == 1
    assert "sequence 3: modified" in output
