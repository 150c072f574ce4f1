"""``manage.py audit_verify``: recompute the whole chain and check every signed checkpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.verification import VerificationNotPossible, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit chain: exit 0 with a one-line summary when intact, exit 1 naming the "
        "first broken sequence number and what is wrong there."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = verify_chain()
        except VerificationNotPossible as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if outcome.ok:
            self.stdout.write(outcome.line())
            return
        self.stderr.write(outcome.line())
        raise SystemExit(1)
