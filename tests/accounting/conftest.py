"""Helpers for the accounting tests."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection

from accounting import db_guards
from accounting.models import Posting
from fund.models import Fund
from tests.factories import FundFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:  # type: ignore[no-untyped-def]
    """The world's users need no slow password hashing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ledger_purge(transactional_db: None) -> Iterator[None]:
    """Transactional tests: empty the append-only ledger before Django flushes the tables."""
    yield
    db_guards.purge_ledger(connection)


def voucher_sums() -> dict[int, Decimal]:
    sums: dict[int, Decimal] = {}
    for voucher_id, amount in Posting.objects.values_list("voucher_id", "amount"):
        sums[voucher_id] = sums.get(voucher_id, Decimal(0)) + amount
    return sums


def new_fund(world, code: str, **kw) -> Fund:  # type: ignore[no-untyped-def]
    fund = FundFactory(code=code, name=f"Fond {code}", accounting_dimension=code.upper()[:20], **kw)
    fund.handlers.add(world.officer, world.officer2, world.decider, world.decider2)
    return fund
