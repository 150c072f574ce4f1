"""The insider of issue #15: database-owner rights and the server's key folder.

Rewrites one payload, recomputes every later hash and the head row, and replaces every
checkpoint with one re-signed by the server's own key at the original sizes and times —
so that the server's own verification finds nothing.
"""

from __future__ import annotations

import base64
from typing import Any

from audit.canonical import event_hash, format_timestamp
from audit.checkpoints import stamp
from audit.merkle import root_of
from audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditTimestamp
from audit.note import CheckpointBody, split_note
from audit.signing import fingerprint, log_origin, sign_note, signer
from tests.audit.conftest import attacker


def rewrite_history(
    sequence: int, change: dict[str, Any], *, resign: bool = True, restamp: bool = False
) -> None:
    """Change event ``sequence``'s payload, re-chain everything after it, re-sign checkpoints.

    With ``restamp`` the insider also asks the timestamp authority for fresh tokens over the
    re-signed notes (old tokens no longer match them, so they are deleted).
    """
    with attacker():
        kept = list(AuditCheckpoint.objects.order_by("sequence").values("sequence", "created_at"))
        prev = AuditEvent.objects.get(sequence=sequence - 1).hash if sequence > 1 else "0" * 64
        for event in AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"):
            if event.sequence == sequence:
                event.payload = {**event.payload, **change}
            event.prev_hash = prev
            event.hash = event_hash(event.hashed_fields())
            AuditEvent.objects.filter(pk=event.pk).update(
                payload=event.payload, prev_hash=event.prev_hash, hash=event.hash
            )
            prev = event.hash
        AuditHead.objects.filter(pk=1).update(hash=prev)
        if not resign:
            return
        AuditTimestamp.objects.all().delete()
        AuditCheckpoint.objects.all().delete()
        for row in kept:
            size, at = row["sequence"], row["created_at"]
            hashes = list(
                AuditEvent.objects.filter(sequence__lte=size)
                .order_by("sequence")
                .values_list("hash", flat=True)
            )
            root = root_of(hashes)
            body = CheckpointBody(log_origin(), size, root, hashes[-1], format_timestamp(at))
            note = sign_note(body.text())
            checkpoint = AuditCheckpoint.objects.create(
                sequence=size,
                hash=hashes[-1],
                created_at=at,
                signature=base64.b64encode(split_note(note)[1][0].signature).decode(),
                key_fingerprint=fingerprint(signer().public_key()),
                note=note,
                root_hash=root.hex(),
            )
            if restamp:
                stamp(checkpoint)
