"""``manage.py esf_income accrue|receive``: a treasurer books co-financing income without a shell.

Figures from the seed (see tests/cofinancing/test_esf_income.py): income is accrued to
2006-12-31 (738 994.32, 338 994.32 of it receivable); 2007's in-kind time earns 63 792.00 more.
"""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting.models import Voucher
from cofinancing.demo import PROJECT_CODE, seed_cofinancing
from cofinancing.esf_ledger import esf_ledger
from tests.fixtures import World

pytestmark = pytest.mark.django_db


def _postings(voucher: Voucher) -> dict[str, D]:
    return {p.account.number: p.amount.amount for p in voucher.postings.all()}


def test_the_command_accrues_esf_income_to_a_date(world: World) -> None:
    project = seed_cofinancing()
    out = io.StringIO()
    call_command(
        "esf_income",
        "accrue",
        "--project",
        PROJECT_CODE,
        "--to",
        "2007-12-31",
        "--user",
        world.treasurer.username,
        stdout=out,
    )
    voucher = Voucher.objects.get(text=f"ESF-intäkt upplupen {PROJECT_CODE} t.o.m. 2007-12-31")
    assert _postings(voucher) == {"1790": D("63792.00"), "3981": D("-63792.00")}
    assert "63792.00" in out.getvalue() and "2007-12-31" in out.getvalue()
    assert esf_ledger(project).recognised == D("802786.32")


def test_the_command_says_so_when_the_income_is_already_booked(world: World) -> None:
    seed_cofinancing()
    count = Voucher.objects.count()
    out = io.StringIO()
    call_command(
        "esf_income",
        "accrue",
        "--project",
        PROJECT_CODE,
        "--to",
        "2006-12-31",
        "--user",
        world.treasurer.username,
        stdout=out,
    )
    assert Voucher.objects.count() == count
    assert "nothing to book" in out.getvalue().lower()


def test_the_command_books_money_received_from_the_co_financier(world: World) -> None:
    project = seed_cofinancing()
    out = io.StringIO()
    call_command(
        "esf_income",
        "receive",
        "--project",
        PROJECT_CODE,
        "--amount",
        "500000",
        "--date",
        "2007-01-15",
        "--reference",
        "ESF-UTB-2",
        "--user",
        world.treasurer.username,
        stdout=out,
    )
    voucher = Voucher.objects.get(text=f"ESF utbetalning {PROJECT_CODE} ESF-UTB-2")
    assert _postings(voucher) == {
        "1930": D("500000.00"),
        "1790": D("-338994.32"),
        "2880": D("-161005.68"),
    }
    assert "500000.00" in out.getvalue()
    assert esf_ledger(project).received == D("900000.00")


def test_the_command_prints_the_services_refusal_and_exits_non_zero(world: World) -> None:
    seed_cofinancing()
    with pytest.raises(CommandError, match="already booked up to 2006-12-31") as refused:
        call_command(
            "esf_income",
            "accrue",
            "--project",
            PROJECT_CODE,
            "--to",
            "2006-06-30",
            "--user",
            world.treasurer.username,
        )
    assert refused.value.returncode != 0
    with pytest.raises(CommandError, match="Only a treasurer may book co-financing income"):
        call_command(
            "esf_income",
            "receive",
            "--project",
            PROJECT_CODE,
            "--amount",
            "1000",
            "--date",
            "2007-01-15",
            "--reference",
            "ESF-UTB-2",
            "--user",
            world.officer.username,
        )
    with pytest.raises(CommandError, match="No co-financed project with the code NOPE-1"):
        call_command(
            "esf_income",
            "accrue",
            "--project",
            "NOPE-1",
            "--to",
            "2007-12-31",
            "--user",
            world.treasurer.username,
        )
