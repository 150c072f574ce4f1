"""Print each fund's balance, budget, open commitments, payouts this year and availability."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounting.selectors import fund_report


class Command(BaseCommand):
    help = "Fund balance and commitment report per fund."

    def handle(self, *args: Any, **options: Any) -> None:
        header = ("fund", "object", "limit", "balance", "budget", "committed", "paid", "available")
        self.stdout.write("{:<16} {:<8} {:<8} {:>14} {:>14} {:>14} {:>14} {:>14}".format(*header))
        for row in fund_report():
            self.stdout.write(
                f"{row.code:<16} {row.dimension:<8} {row.ceiling:<8} {row.balance:>14} "
                f"{row.budget if row.budget is not None else '-':>14} "
                f"{row.open_commitments:>14} {row.paid_this_year:>14} {row.available:>14}"
            )
