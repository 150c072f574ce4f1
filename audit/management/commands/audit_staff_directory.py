"""``manage.py audit_staff_directory --from YYYY-MM-DD --to YYYY-MM-DD --output FILE``."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.staff_directory import staff_directory
from core.exceptions import ValidationFailed


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Write the signed list of user ids to names for a period (the staff directory), to "
        "keep with the audit trail; check it with python -m audit.staff_directory verify."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        try:
            signed = staff_directory(_day(options["start"]), _day(options["end"]))
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        # Names of staff: readable by the owner only, like the other exports.
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(signed)
        users = sum(1 for line in signed.splitlines() if line.startswith("user "))
        self.stdout.write(f"wrote the staff directory ({users} users) to {output}")
