"""What every fault test checks afterwards: the audit chain verifies and the books balance."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command
from django.db.models import Sum

from accounting.ledger import trial_balance
from accounting.models import Posting, Voucher
from audit.models import AuditEvent
from fund.money import quantize


def books() -> dict[str, Decimal]:
    """The sum of all postings per currency (double entry: each must be exactly 0)."""
    rows = (
        Posting.objects.order_by()
        .values_list("amount_currency")
        .annotate(total=Sum("amount"))
        .values_list("amount_currency", "total")
    )
    return {currency: quantize(total) for currency, total in rows}


def consistent() -> str:
    """Assert that ``audit_verify`` exits 0 and that the books balance; describe both.

    The returned line (the verifier's own output and the measured sums) goes into the
    evidence report.
    """
    out = io.StringIO()
    call_command("audit_verify", stdout=out)  # exits 1 (SystemExit) on a broken chain
    verified = out.getvalue().strip()
    assert verified.startswith("audit chain intact"), verified
    totals = books()
    assert totals and all(total == 0 for total in totals.values()), totals
    trial = trial_balance()
    assert sum(trial.values(), Decimal(0)) == 0, trial
    sums = ", ".join(f"{currency} {total}" for currency, total in sorted(totals.items()))
    return (
        f"audit_verify exit 0 ({verified}); postings sum per currency: {sums} "
        f"over {Voucher.objects.count()} vouchers; trial balance over {len(trial)} accounts: 0"
    )


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def listing(directory: Path) -> list[str]:
    """The names in a directory, hidden partial files included."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []
