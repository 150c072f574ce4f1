"""``manage.py privacy_report B-… --as ADMIN --output FILE``: everything held (GDPR Art 15)."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.management.commands._actor import actor_named, beneficiary_named
from fund.privacy import subject_access_report
from workflows.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Write everything held about a person to a file for the administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference")
        parser.add_argument("--as", dest="actor", required=True, help="administrator's username")
        parser.add_argument("--output", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        person = beneficiary_named(options["reference"])
        try:
            report = subject_access_report(actor_named(options["actor"]), person)
        except WorkflowError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(options["output"])
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        path.chmod(0o600)
        self.stdout.write(f"{person.reference}: report written to {path}.")
