"""The database itself refuses to change or remove audit rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import triggers
from audit.models import AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.evidence("tamper")


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    return str(caught.value)


@pytest.mark.parametrize("table", triggers.PROTECTED_TABLES)
def test_migrations_install_the_triggers(db, table):
    expected = 2  # UPDATE and DELETE (SQLite); UPDATE/DELETE and TRUNCATE (PostgreSQL)
    assert triggers.installed(connection, table) == expected


def test_update_of_an_event_is_refused(chain):
    chain(3)
    message = _refused("UPDATE audit_auditevent SET action = 'x' WHERE sequence = 2")
    assert "append-only" in message
    assert AuditEvent.objects.get(sequence=2).action == "application.submit"


def test_orm_update_is_refused_too(chain):
    chain(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(sequence=1).update(actor_role="auditor")


def test_delete_of_an_event_is_refused(chain):
    chain(3)
    assert "append-only" in _refused("DELETE FROM audit_auditevent WHERE sequence = 3")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 3


def test_checkpoints_are_append_only_as_well(chain):
    chain(3)
    call_command("audit_checkpoint")
    assert "append-only" in _refused("UPDATE audit_auditcheckpoint SET hash = 'x'")
    assert "append-only" in _refused("DELETE FROM audit_auditcheckpoint")
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("table", triggers.PROTECTED_TABLES)
def test_truncate_is_refused_on_postgresql(chain, table):
    chain(3)
    call_command("audit_checkpoint")
    assert "append-only" in _refused(f"TRUNCATE {table} CASCADE")
    assert AuditEvent.objects.count() == 3


@pytest.mark.postgres
def test_an_update_matching_no_row_is_refused_on_postgresql(db):
    """Statement-level: the attempt itself is refused, whatever it would touch."""
    assert "append-only" in _refused("UPDATE audit_auditevent SET action = 'x' WHERE false")


def test_appending_still_works(chain):
    events = chain(2)
    assert [e.sequence for e in events] == [1, 2]
