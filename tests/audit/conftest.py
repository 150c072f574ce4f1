"""Helpers for the audit tests: a chain of N events, and an attacker with database rights."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit import triggers
from audit.models import AuditEvent, AuditHead
from audit.services import record_event
from tests.audit.tsa_authority import local_tsa, other_ca_pem  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """The world's users get passwords; the slow production hasher adds nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def append(count: int, ref: str = "A-2026-000001") -> list[AuditEvent]:
    """Append ``count`` events in one transaction."""
    with transaction.atomic():
        return [
            record_event(
                action="application.submit",
                role="officer",
                object_type="application",
                object_ref=ref,
                payload={"step": n, "amount": Decimal("1500.50"), "to": "submitted"},
            )
            for n in range(count)
        ]


@pytest.fixture
def chain(db: None) -> Callable[..., list[AuditEvent]]:
    """A fresh chain: sequences 1..count (the test database starts without events)."""
    assert not AuditEvent.objects.exists()
    AuditHead.objects.all().delete()
    return append


@contextmanager
def attacker() -> Iterator[None]:
    """Someone with owner rights: drops the triggers, tampers, and puts them back."""
    triggers.drop(connection)
    try:
        yield
    finally:
        triggers.install(connection)


_verifications: list[tuple[int, str]] = []


def verify() -> tuple[int, str]:
    """Run ``manage.py audit_verify``: (exit status, its output)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exc:
        status = int(exc.code or 0)
    else:
        status = 0
    _verifications.append((status, out.getvalue() + err.getvalue()))
    return _verifications[-1]


@pytest.fixture
def verifications_as_evidence(evidence: Any) -> Iterator[None]:
    """Each ``audit_verify`` run of the test becomes a row of the evidence report."""
    _verifications.clear()
    yield
    for status, output in _verifications:
        evidence.row("manage.py audit_verify", f"exit {status}: {' '.join(output.split())}")
    _verifications.clear()
