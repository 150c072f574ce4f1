"""Let the test runner empty the append-only tables (audit, ledger, time sheets, ESF claims)
between transactional tests.

``transactional_db`` tests end with Django's flush (DELETE on SQLite, TRUNCATE on
PostgreSQL), which the audit triggers refuse, as they should. Only here, in the test runner,
is the flush allowed through: the triggers are dropped for the flush and put back at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db.backends.base.operations import BaseDatabaseOperations


@pytest.fixture(autouse=True, scope="session")
def _flush_past_audit_triggers() -> Iterator[None]:
    from accounting import db_guards
    from audit import triggers
    from cofinancing import db_guards as cofinancing_guards

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: Any) -> None:
        triggers.drop(self.connection)
        db_guards.uninstall(self.connection)
        cofinancing_guards.uninstall(self.connection)
        cofinancing_guards.uninstall_claim_guards(self.connection)
        try:
            original(self, sql_list)
        finally:
            cofinancing_guards.install_claim_guards(self.connection)
            cofinancing_guards.install(self.connection)
            db_guards.install(self.connection)
            triggers.install(self.connection)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]
