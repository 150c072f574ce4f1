"""Exports of the ledger: SIE 4 / 4I, and posting rows as CSV, XLSX and JSON Lines.

Pure code over the accounting models (no models of its own). Every export streams: rows are
read with ``iterator(chunk_size=…)`` and written as they come, never gathered in a list.
Files are written to a temporary name beside the target and renamed only when complete, so a
refused export leaves no half-written file behind.
"""

from __future__ import annotations

from core.exceptions import ValidationFailed


class ExportRefused(ValidationFailed):
    """The export would be wrong (unbalanced voucher, open year with balances, …)."""
