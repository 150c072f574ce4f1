"""Import the bank's answer to a payout file (pain.002 status report or camt.054)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.bank_status import import_bank_file
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Import a pain.002 status report or a camt.054 debit notification."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True)
        parser.add_argument("--user", required=True, help="the treasurer importing it")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']}.")
        try:
            report = import_bank_file(Path(options["file"]).read_bytes(), actor=user)
        except WorkflowError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"paid {report.paid}, failed {report.failed}, pending {report.pending}, "
            f"not matched {len(report.unknown)}"
        )
        for entry in report.entries:
            code = f" {entry.code}" if entry.code else ""
            self.stdout.write(f"{entry.order}: {entry.result}{code} — {entry.reason}")
