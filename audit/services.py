"""Appending to the audit chain.

Every domain service calls :func:`record_event` inside the transaction that makes the
change, so the event and the change commit or roll back together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.canonical import GENESIS_HASH, event_hash, format_timestamp, normalise
from audit.models import AuditEvent, AuditHead

#: Keys that would carry personal values. Payloads use ids, states, amounts, field names.
FORBIDDEN_PAYLOAD_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "personnummer",
        "personal_number",
        "address",
        "email",
        "phone",
        "contact",
        "description",
        "statement",
        "note",
        "username",
    }
)

_PERSONNUMMER = re.compile(r"\b(19|20)?\d{6}[-+]?\d{4}\b")


class AuditPayloadError(ValueError):
    """A payload that could carry personal data, or that has no canonical form."""


class AuditOutsideTransaction(RuntimeError):
    """An event must share the transaction of the change it records."""


def _check_payload(payload: Any, path: str = "payload") -> None:
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            if str(key).lower() in FORBIDDEN_PAYLOAD_KEYS:
                raise AuditPayloadError(f"{path}.{key}: personal values never go in the audit log")
            _check_payload(value, f"{path}.{key}")
    elif isinstance(payload, list | tuple):
        for index, value in enumerate(payload):
            _check_payload(value, f"{path}[{index}]")
    elif isinstance(payload, str) and _PERSONNUMMER.search(payload):
        raise AuditPayloadError(f"{path}: looks like a personal identity number")


def _lock_head() -> AuditHead:
    """Take the head row for update; creating it on first use."""
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        try:
            with transaction.atomic():
                AuditHead.objects.create(pk=1, sequence=0, hash=GENESIS_HASH)
        except IntegrityError:
            pass
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def record_event(
    *,
    action: str,
    actor: Any = None,
    role: str = "",
    object_type: str = "",
    object_ref: str = "",
    payload: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("record_event must run inside the change's transaction")
    body = normalise(dict(payload or {}))
    _check_payload(body)
    head = _lock_head()
    occurred_at = timezone.now()
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    fields = {
        "sequence": head.sequence + 1,
        "occurred_at": format_timestamp(occurred_at),
        "actor_id": actor_id,
        "actor_role": role,
        "action": action,
        "object_type": object_type,
        "object_ref": object_ref,
        "payload": body,
        "prev_hash": head.hash,
    }
    digest = event_hash(fields)
    event = AuditEvent.objects.create(
        sequence=fields["sequence"],
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_role=role,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        payload=body,
        prev_hash=head.hash,
        hash=digest,
    )
    AuditHead.objects.filter(pk=1).update(sequence=event.sequence, hash=digest)
    return event
