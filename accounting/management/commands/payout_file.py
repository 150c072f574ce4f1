"""Write a payment batch's pain.001.001.03 file (validated against the XSD first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.management.commands._batch import batch_named
from accounting.payouts.batches import export_batch
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = (
        "Export an approved payment batch as an ISO 20022 pain.001.001.03 file. The copy is "
        "created owner-only (0600) and is NOT tracked: erasure redacts only the files in "
        "PAYOUT_FILES_DIR, so delete this copy once it is uploaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", required=True, help="batch id or message id")
        parser.add_argument(
            "--output",
            required=True,
            help="file to write (owner-only; untracked: erasure does not redact it)",
        )
        parser.add_argument(
            "--force", action="store_true", help="overwrite the output file if it exists"
        )
        parser.add_argument(
            "--user", help="the treasurer exporting it (default: the treasurer who approved it)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["batch"]
        batch = batch_named(key)
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
        else:
            user = batch.approved_by
        if user is None:
            raise CommandError(f"No user {options['user'] or 'approved the batch'}.")
        try:
            content = export_batch(batch, actor=user)
        except WorkflowError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        output = Path(options["output"])
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if options["force"] else os.O_EXCL)
        try:
            handle = os.open(output, flags, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{output} exists; use --force to overwrite it.") from exc
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # an existing file overwritten with --force too
            out.write(content)
        self.stdout.write(
            f"{batch.message_id}: {batch.orders.count()} payments written to {output}"
        )
