"""Row locks on the foundation's shared rows (the lock order is in docs/architecture.md)."""

from __future__ import annotations

from fund.models import Fund


def lock_fund(fund: Fund) -> Fund:
    """Serialise everything that reads a fund's available amount to change it."""
    return Fund.objects.select_for_update().get(pk=fund.pk)
