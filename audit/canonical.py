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
from datetime import datetime
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
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical encoding of every hashed field of one event."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise KeyError(f"event is missing fields: {', '.join(missing)}")
    body = {name: fields[name] for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()
