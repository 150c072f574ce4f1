"""``manage.py privacy_report B-… --as ADMIN --output FILE``: everything held (GDPR Art 15)."""

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import WorkflowError
from fund.management.commands._actor import actor_named, beneficiary_named
from privacy.subject_access import subject_access_report


class Command(BaseCommand):
    help = "Write everything held about a person to a file for the administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference")
        parser.add_argument("--as", dest="actor", required=True, help="administrator's username")
        parser.add_argument("--output", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        person = beneficiary_named(options["reference"])
        try:
            report = subject_access_report(person, actor=actor_named(options["actor"]))
        except WorkflowError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(options["output"])
        write_owner_only(path, json.dumps(report, ensure_ascii=False, indent=2))
        self.stdout.write(f"{person.reference}: report written to {path}.")


def write_owner_only(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, from its first byte.

    Created 0600 (not chmod-ed after writing, when others could read it meanwhile); a file
    already there is tightened before anything is written; a symlink in its place is refused.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
