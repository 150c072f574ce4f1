"""``manage.py audit_checkpoint``: sign the chain's head with the key outside the database."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import ChainBroken, make_checkpoint


class Command(BaseCommand):
    help = (
        "Verify the entries since the latest checkpoint, then sign a checkpoint note (size, "
        "Merkle root, chain head, time) with the log's key, timestamp it and mail it to the "
        "auditors when configured. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = make_checkpoint()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ChainBroken as exc:
            raise CommandError(f"no checkpoint signed: {exc}", returncode=1) from exc
        if checkpoint is None:
            self.stdout.write("audit chain is empty: nothing to checkpoint")
            return
        self.stdout.write(
            f"checkpoint at sequence {checkpoint.sequence}, head {checkpoint.hash[:16]}…, "
            f"key {checkpoint.key_fingerprint[:16]}…"
        )
