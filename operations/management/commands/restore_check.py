"""``manage.py restore_check BACKUP --keys KEYFILE``: the monthly restore drill.

Restores the backup into a scratch copy or scratch database and proves it with the keys from
KEYFILE (not this installation's): manifest checksum and key fingerprints, migrations, the
audit chain, the trial balance, a sample of people. One line per check; exit 1 when any fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.restore_drill import restore_check


class Command(BaseCommand):
    help = (
        "Restore a backup (manage.py backup) into a scratch copy or database and prove it with "
        "the keys in KEYFILE: one line per check, exit 1 when any fails."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("backup", type=Path, metavar="BACKUP")
        parser.add_argument("--keys", type=Path, required=True, metavar="KEYFILE")
        parser.add_argument(
            "--manifest",
            type=Path,
            default=None,
            help="the backup's manifest (default: fundflow-<stamp>.manifest.json beside it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        passed = restore_check(
            options["backup"],
            keys=options["keys"],
            manifest=options["manifest"],
            report=self.stdout.write,
        )
        if not passed:
            raise CommandError("Restore check FAILED: see the lines marked FAIL above.")
        self.stdout.write("Restore check passed: this backup and key file restore.")
