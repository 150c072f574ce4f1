"""Canonical JSON and the chain hash.

Kept free of Django so that the offline verifier (``python -m audit.verify``) can import it
with only the standard library. The encoding follows the spirit of RFC 8785: sorted keys,
no insignificant whitespace, UTF-8, and no floats (decimals travel as strings), so every
system that re-encodes the same event gets the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64

#: The fields the hash covers, in the order they are documented (the encoding sorts them).
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_ref",
    "payload",
    "prev_hash",
)


class NotCanonicalisable(TypeError):
    """A value that has no single canonical form (floats, sets, objects)."""


def normalise(value: Any) -> Any:
    """Turn a payload into plain JSON types; decimals become strings, floats are refused."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise NotCanonicalisable("floats have no canonical form here; use Decimal or str")
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalisable(f"payload keys must be strings, got {key!r}")
            out[key] = normalise(item)
        return out
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    raise NotCanonicalisable(f"cannot canonicalise {type(value).__name__}")


def format_timestamp(moment: datetime) -> str:
    """UTC, microsecond precision, ``Z`` suffix: one spelling for one instant."""
    if moment.tzinfo is None:
        raise NotCanonicalisable("timestamps must be timezone-aware")
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def canonical_bytes(value: Any) -> bytes:
    text = json.dumps(normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotCanonicalisable("text with a lone surrogate has no UTF-8 form") from exc


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical encoding of every hashed field of one event."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise KeyError(f"event is missing fields: {', '.join(missing)}")
    body = {name: fields[name] for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C-accelerated
_dump_payload = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def stored_event_bytes(
    sequence: int,
    occurred_at: str,
    actor_id: int | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_ref: str,
    payload: Any,
    prev_hash: str,
) -> bytes:
    """The canonical bytes of an event as read back from storage — the verifier's hot path.

    Produces exactly ``canonical_bytes`` of the hashed fields (the keys spelled out here in
    sorted order), but skips ``normalise``: a stored payload is already plain JSON, having
    been normalised before it was written. ``tests/audit/test_canonical.py`` checks both
    spellings agree.
    """
    actor = "null" if actor_id is None else int(actor_id)
    return (
        f'{{"action":{_quote(action)},"actor_id":{actor},"actor_role":{_quote(actor_role)},'
        f'"object_ref":{_quote(object_ref)},"object_type":{_quote(object_type)},'
        f'"occurred_at":{_quote(occurred_at)},"payload":{_dump_payload(payload)},'
        f'"prev_hash":{_quote(prev_hash)},"sequence":{int(sequence)}}}'
    ).encode()


def stored_text_bytes(
    sequence: int,
    occurred_at: str,
    actor_id: int | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_ref: str,
    payload_text: str,
    prev_hash: str,
) -> bytes:
    """The event's bytes with the payload spliced in *as stored text*, not re-encoded.

    ``record_event`` stores payloads in canonical form, so for an untouched row (on a backend
    that keeps JSON as text, SQLite) this equals :func:`stored_event_bytes` and costs no JSON
    parse or dump. It is only a fast first try: the verifier accepts a row when the hash of
    these bytes *or* of the canonical re-encoding of the parsed payload matches its recorded
    hash. Any change to the stored text changes these bytes, so the first try then fails and
    the canonical one decides; the other fields are quoted exactly as in the canonical form.
    """
    actor = "null" if actor_id is None else int(actor_id)
    return (
        f'{{"action":{_quote(action)},"actor_id":{actor},"actor_role":{_quote(actor_role)},'
        f'"object_ref":{_quote(object_ref)},"object_type":{_quote(object_type)},'
        f'"occurred_at":{_quote(occurred_at)},"payload":{payload_text},'
        f'"prev_hash":{_quote(prev_hash)},"sequence":{int(sequence)}}}'
    ).encode()


class CanonicalJSONEncoder(json.JSONEncoder):
    """The canonical spelling for a JSONField: what the database keeps is what is hashed.

    Used as ``AuditEvent.payload``'s encoder so SQLite stores each payload's canonical text
    and the verifier can hash it without parsing (see :func:`stored_text_bytes`). Payloads
    are normalised before they are stored, so no ``default`` hook is needed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        super().__init__(*args, **kwargs)


#: Domain separation: a checkpoint signature can never be mistaken for another signature.
CHECKPOINT_PURPOSE = "fundflow-audit-checkpoint/v1"


def checkpoint_message(sequence: int, head_hash: str) -> bytes:
    """The bytes an Ed25519 checkpoint signature covers: the sequence and the hash there."""
    return canonical_bytes({"purpose": CHECKPOINT_PURPOSE, "sequence": sequence, "hash": head_hash})
