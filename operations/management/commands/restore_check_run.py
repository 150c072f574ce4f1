"""``manage.py restore_check_run``: the checks of a restore drill (started by restore_check).

Runs only in the process restore_check starts on a scratch copy, with the key file's keys.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.restore_checks import SCRATCH_MARKER, run_checks


class Command(BaseCommand):
    help = "Internal: the checks restore_check runs on its scratch copy. Run restore_check."

    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get(SCRATCH_MARKER) != "1":
            raise CommandError(
                "restore_check_run runs only on a scratch copy started by restore_check: run "
                "manage.py restore_check BACKUP --keys KEYFILE."
            )
        lines = run_checks()
        for line in lines:
            self.stdout.write(line.render())
        if not all(line.ok for line in lines):
            raise SystemExit(1)
