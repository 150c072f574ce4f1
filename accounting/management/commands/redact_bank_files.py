"""Redact erased people's accounts from bank files that erasure did not see."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.management.commands._batch import batch_named
from accounting.payouts.redaction import redact_erased_payees_from_bank_file
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = (
        "Redact the accounts of erased person payees, and the file's nonce, from the pain.001 "
        "files of the given batches in PAYOUT_FILES_DIR (a file restored from a backup, or one "
        "another host's folder held at erasure). Needs no key: the transfers are found by their "
        "end-to-end ids. Copies outside PAYOUT_FILES_DIR are not tracked: redact or delete "
        "them yourself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batches", nargs="+", help="message ids (FF-…) or batch ids")
        parser.add_argument("--user", help="the administrator doing it (recorded in the log)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']}.")
        for key in options["batches"]:
            batch = batch_named(key)
            try:
                orders = redact_erased_payees_from_bank_file(batch, actor=user)
            except WorkflowError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            if orders:
                self.stdout.write(f"{batch.message_id}: redacted {len(orders)} payment(s)")
            else:
                self.stdout.write(f"{batch.message_id}: nothing of an erased person to redact")
