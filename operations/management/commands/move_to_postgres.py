"""``manage.py move_to_postgres --from SQLITE_FILE``: the embedded database into PostgreSQL.

Run with DATABASE_URL naming the target (migrated by the same code, empty; as its owner
role, since the ledger's guards are lifted for the copy) and the keys set in the
environment (``keys_to_environment``). Every table is copied with its primary keys in ONE
transaction and proved in the same one — row counts, the audit chain, the trial balance, a
sample of people decrypting, a personnummer found through the blind index — one line per
check. Any failure rolls the whole move back: the target is left as ``migrate`` left it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.services import record_event
from operations.move import (
    SOURCE_ALIAS,
    MoveFailed,
    MoveRefused,
    embedded_source,
    move_in_one_transaction,
    start_move,
)
from operations.move_proof import Proof, moved_database_proofs


class Command(BaseCommand):
    help = (
        "Copy the embedded SQLite database into the empty PostgreSQL database of DATABASE_URL "
        "in one transaction, and prove the copy (counts, audit chain, balance, keys)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            metavar="SQLITE_FILE",
            help="the embedded database file (db.sqlite3), opened read-only",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source_path = Path(options["source"])
        try:
            start_move()
            with embedded_source(source_path) as source:
                proofs = self._move(source)
        except MoveRefused as refused:
            raise CommandError(f"Refusing to move: {refused}") from refused
        except (MoveFailed, ImproperlyConfigured) as failed:
            # ImproperlyConfigured: a key the proof needs is missing (named in the message).
            raise CommandError(
                f"The move failed and was rolled back; the target holds nothing of it. {failed}"
            ) from failed
        for proof in proofs:
            self.stdout.write(proof.line())
        self.stdout.write(
            f"Moved {source_path} into PostgreSQL. Next: `make migrate-prod` (grants), "
            "`manage.py check_production`, then start the services."
        )

    def _move(self, source: Any) -> list[Proof]:
        # One read transaction on the file (a consistent snapshot) and one write transaction
        # on the target, holding the copy and its proof together.
        with transaction.atomic(using=SOURCE_ALIAS), transaction.atomic():
            copied, lifted = move_in_one_transaction(source)
            rows = sum(table.rows for table in copied)
            self.stdout.write(
                f"Copied {len(copied)} tables, {rows} rows ({lifted} tables' guards lifted "
                "for the copy and enabled again)."
            )
            proofs = [
                Proof("row counts", True, f"{len(copied)} tables equal, {rows} rows"),
            ]
            record_event(
                action="operations.moved_to_postgres",
                object_type="database",
                payload={"tables": len(copied), "rows": rows},
            )
            proofs += moved_database_proofs()
            failed = [proof for proof in proofs if not proof.passed]
            if failed:
                for proof in proofs:
                    self.stdout.write(proof.line())
                raise MoveFailed("Not proved: " + "; ".join(p.name for p in failed) + ".")
        return proofs
