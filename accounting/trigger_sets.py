"""Database triggers installed as a set, on SQLite and PostgreSQL alike.

The ledger guards, the reference-data guards, the payee guard and the time-sheet guards are
each a set of CREATE statements per database with the DROP statements that undo them.
Installing drops first, so a migration or a test can install a set again at any time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TriggerSet:
    """What guards one concern: the statements that create it and drop it, per database."""

    name: str
    sqlite: Sequence[str]
    sqlite_drop: Sequence[str]
    postgresql: Sequence[str]
    postgresql_drop: Sequence[str]

    def statements(self, vendor: str, *, drop: bool) -> Sequence[str]:
        if vendor == "postgresql":
            return self.postgresql_drop if drop else self.postgresql
        if vendor == "sqlite":
            return self.sqlite_drop if drop else self.sqlite
        raise NotImplementedError(f"no {self.name} for {vendor}")

    def install(self, connection: Any) -> None:
        with connection.cursor() as cursor:
            for statement in [
                *self.statements(connection.vendor, drop=True),
                *self.statements(connection.vendor, drop=False),
            ]:
                cursor.execute(statement)

    def uninstall(self, connection: Any) -> None:
        with connection.cursor() as cursor:
            for statement in self.statements(connection.vendor, drop=True):
                cursor.execute(statement)
