"""``manage.py backup --to DIR [--keys-to KEYDIR]``: the database and its keys, apart.

Safe while the application writes (SQLite's online backup API, or ``pg_dump -Fc``). Prints
what was written and where each file must be kept; never a key or a personal value.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.backups import BackupFailed, take_backup


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup API, or pg_dump -Fc) into DIR, and the "
        "keys it needs into a separate file in KEYDIR (default: a sibling folder DIR-keys). "
        "Files 0600, folders 0700."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--to", type=Path, required=True, metavar="DIR")
        parser.add_argument(
            "--keys-to",
            type=Path,
            default=None,
            metavar="KEYDIR",
            help="where the key file goes; never inside DIR (default: DIR-keys beside DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            files = take_backup(to=options["to"], keys_to=options["keys_to"])
        except (BackupFailed, OSError, sqlite3.Error) as exc:
            raise CommandError(f"Backup failed, nothing kept: {exc}") from exc
        signing = (
            "the audit signing key and its public key"
            if files.signing_key_included
            else "the audit public key only (the signing key is with the signer process: back "
            "up its key and state file with its own backups)"
        )
        self.stdout.write(
            "\n".join(
                [
                    f"Database backup: {files.database}",
                    f"Manifest:        {files.manifest} (checksum and key fingerprints; no keys)",
                    f"Key file:        {files.keys} (field-encryption keys, blind-index key, "
                    f"{signing})",
                    "",
                    "Keep them apart — keys apart from data:",
                    "  - the database backup and its manifest: off this host, with the backup "
                    "rotation (35 days);",
                    "  - the key file: NOT with the database backups — in a password manager or "
                    "secrets store that two people can open; then delete it here.",
                    "Without the key file the backup cannot be read; with both in one place the "
                    "encryption protects nothing.",
                    f"Prove it restores: manage.py restore_check {files.database} "
                    f"--keys {files.keys}",
                ]
            )
        )
