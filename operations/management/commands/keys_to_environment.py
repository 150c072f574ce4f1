"""``manage.py keys_to_environment --to FILE``: the embedded key files as environment keys.

Writes FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY (the values in var/keys/, or those already
set) to a new file created 0600, for a systemd EnvironmentFile or a secrets store. No key is
ever printed. The audit signing key stays a file: the output says where to move it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.key_environment import KeysNotWritten, write_environment_file


class Command(BaseCommand):
    help = (
        "Write the field-encryption and blind-index keys to a new 0600 environment file "
        "(FIELD_ENCRYPTION_KEYS=…, BLIND_INDEX_KEY=…); no key is printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            dest="target",
            required=True,
            metavar="FILE",
            help="a new file (created 0600), e.g. /etc/fundflow/keys.env",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = write_environment_file(Path(options["target"]))
        except KeysNotWritten as problem:
            raise CommandError(str(problem)) from problem
        signing = Path(settings.AUDIT_SIGNING_KEY_FILE)
        public = Path(settings.AUDIT_PUBLIC_KEY_FILE)
        self.stdout.write(
            f"Wrote FIELD_ENCRYPTION_KEYS ({written.field_keys} key, from "
            f"{written.field_source}) and BLIND_INDEX_KEY (from {written.index_source}) to "
            f"{written.path} (mode 0600).\n"
            f"Keep it apart from the database and its backups; load it with systemd's "
            f"EnvironmentFile={written.path} or put both values in your secrets store.\n"
            f"The audit signing key stays a file: move {signing} to a folder only the service "
            f"(or its signer process) can read, e.g. /etc/fundflow/audit-signing.pem (0600), and "
            f"set AUDIT_SIGNING_KEY_FILE to it; keep the public key {public} at "
            "AUDIT_PUBLIC_KEY_FILE (the auditors know its fingerprint)."
        )
