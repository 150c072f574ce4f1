"""The database itself refuses an unbalanced voucher at COMMIT (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounting import ledger
from accounting.models import Account, Posting, Voucher, VoucherSeal

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.evidence("ledger"),
]


def _voucher(number: int) -> Voucher:
    year = ledger.fiscal_year_for(timezone.localdate())
    return Voucher.objects.create(
        fiscal_year=year,
        series="A",
        number=number,
        date=timezone.localdate(),
        text="Direkt",
        created_at=timezone.now(),
    )


def _posting(voucher: Voucher, account: str, amount: str) -> Posting:
    return Posting(
        voucher=voucher,
        seal_id=voucher.pk,
        account=Account.objects.get(number=account),
        amount=Decimal(amount),
    )


def test_unbalanced_postings_bulk_inserted_fail_at_commit(ledger_purge):
    with pytest.raises(IntegrityError), transaction.atomic():
        voucher = _voucher(9001)
        Posting.objects.bulk_create(
            [_posting(voucher, "1930", "100.00"), _posting(voucher, "3993", "-99.00")]
        )
        # Nothing complains yet: the check is deferred to COMMIT.
        assert Posting.objects.filter(voucher=voucher).count() == 2
    assert not Voucher.objects.filter(number=9001).exists()


def test_unbalanced_voucher_in_raw_sql_fails_at_commit(ledger_purge):
    year = ledger.fiscal_year_for(timezone.localdate())
    bank = Account.objects.get(number="1930").pk
    gifts = Account.objects.get(number="3993").pk
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounting_voucher (fiscal_year_id, series, number, date, text, "
            "created_at) VALUES (%s, 'A', 9002, %s, 'Rå SQL', %s)",
            [year.pk, timezone.localdate(), timezone.now()],
        )
        voucher_id = Voucher.objects.get(number=9002).pk
        for account, amount in ((bank, "50.00"), (gifts, "-49.99")):
            cursor.execute(
                "INSERT INTO accounting_posting (voucher_id, seal_id, account_id, amount, "
                "amount_currency) VALUES (%s, %s, %s, %s, 'SEK')",
                [voucher_id, voucher_id, account, amount],
            )
    assert not Voucher.objects.filter(number=9002).exists()


def test_sealing_an_unbalanced_voucher_is_refused(ledger_purge):
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        voucher = _voucher(9003)
        Posting.objects.bulk_create(
            [_posting(voucher, "1930", "0.10"), _posting(voucher, "3993", "-0.20")]
        )
        VoucherSeal.objects.create(voucher=voucher, sealed_at=timezone.now())


def test_an_empty_voucher_is_refused(ledger_purge):
    with pytest.raises(IntegrityError), transaction.atomic():
        voucher = _voucher(9004)
        VoucherSeal.objects.create(voucher=voucher, sealed_at=timezone.now())


def test_a_balanced_sealed_voucher_commits(ledger_purge):
    with transaction.atomic():
        voucher = _voucher(9005)
        Posting.objects.bulk_create(
            [
                _posting(voucher, "1930", "0.10"),
                _posting(voucher, "1930", "0.20"),
                _posting(voucher, "3993", "-0.30"),
            ]
        )
        VoucherSeal.objects.create(voucher=voucher, sealed_at=timezone.now())
    assert Voucher.objects.filter(number=9005).exists()


@pytest.mark.postgres
def test_postgres_constraint_trigger_checks_the_sum_at_commit(ledger_purge):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgdeferrable, tginitdeferred FROM pg_trigger "
            "WHERE tgname = 'accounting_posting_balanced'"
        )
        assert cursor.fetchone() == (True, True)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        voucher = _voucher(9006)
        Posting.objects.bulk_create(
            [_posting(voucher, "1930", "10.00"), _posting(voucher, "3993", "-9.00")]
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS accounting_posting_balanced IMMEDIATE")


def test_a_whole_payout_commits_balanced_for_real(world):
    from tests.accounting.conftest import voucher_sums

    app = world.to_paid(world.new_application("1500", "800"))
    assert app.state == "paid"
    assert voucher_sums() and all(total == 0 for total in voucher_sums().values())
    assert sum(ledger.trial_balance().values()) == 0


def test_a_voucher_without_postings_cannot_commit(ledger_purge):
    """Issue #13, suspected: SQLite let a voucher with no postings (and no seal) commit."""
    with pytest.raises(IntegrityError), transaction.atomic():
        _voucher(9007)
    year = ledger.fiscal_year_for(timezone.localdate())
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounting_voucher (fiscal_year_id, series, number, date, text, "
            "created_at) VALUES (%s, 'A', 9008, %s, 'Tom', %s)",
            [year.pk, timezone.localdate(), timezone.now()],
        )
    assert not Voucher.objects.filter(number__in=[9007, 9008]).exists()
