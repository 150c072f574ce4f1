"""``manage.py privacy_erase B-… --as ADMIN``: crypto-shred a person once no hold applies."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import WorkflowError
from fund.management.commands._actor import actor_named, beneficiary_named
from privacy.erasure import erase_person


class Command(BaseCommand):
    help = "Erase a person's personal data by destroying their key (after the legal hold)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference")
        parser.add_argument("--as", dest="actor", required=True, help="administrator's username")

    def handle(self, *args: Any, **options: Any) -> None:
        person = beneficiary_named(options["reference"])
        try:
            erase_person(person, actor=actor_named(options["actor"]))
        except WorkflowError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{person.reference}: personal data erased.")
