"""Write a payment batch's pain.001.001.03 file (validated against the XSD first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import PaymentBatch
from accounting.payouts import export_batch
from workflows.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Export an approved payment batch as an ISO 20022 pain.001.001.03 file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", required=True, help="batch id or message id")
        parser.add_argument("--output", required=True, help="file to write")
        parser.add_argument(
            "--user", help="the treasurer exporting it (default: the treasurer who approved it)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["batch"]
        batches = PaymentBatch.objects.all()
        batch = (
            batches.filter(pk=int(key)).first()
            if str(key).isdigit()
            else batches.filter(message_id=key).first()
        )
        if batch is None:
            raise CommandError(f"No payment batch {key}.")
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
        else:
            user = batch.approved_by
        if user is None:
            raise CommandError(f"No user {options['user'] or 'approved the batch'}.")
        try:
            content = export_batch(batch, user)
        except WorkflowError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        output = Path(options["output"])
        output.write_bytes(content)
        self.stdout.write(
            f"{batch.message_id}: {batch.orders.count()} payments written to {output}"
        )
