"""The accounting side of the case workflow, and the services' public names.

``workflows.services`` calls the ``on_*`` hooks inside the transition's transaction, so the
ledger, the commitments and the payment orders change together with the case's state (or
not at all). The actual work lives in ``ledger``, ``commitments``, ``payees`` and
``payouts``; this module only connects the workflow's steps to it.
"""

from __future__ import annotations

from accounting.commitments import (
    available,
    commit_decision,
    release_commitments,
    set_budget,
    set_ceiling,
)
from accounting.ledger import (
    fiscal_year_for,
    fund_balance,
    post_voucher,
    record_income,
    reverse_voucher,
    trial_balance,
)
from accounting.payees import approve_payee, create_payee, validate_account
from accounting.payouts.batches import (
    approve_batch,
    cancel_batch,
    create_batch,
    export_batch,
    mark_sent,
    void_batch_file,
)
from accounting.payouts.settlement import confirm_batch_paid, confirm_paid, reject_orders
from accounting.period_closing import approve_period_close, propose_period_close

__all__ = [
    "approve_batch",
    "approve_payee",
    "approve_period_close",
    "available",
    "cancel_batch",
    "commit_decision",
    "confirm_batch_paid",
    "confirm_paid",
    "create_batch",
    "create_payee",
    "export_batch",
    "fiscal_year_for",
    "fund_balance",
    "mark_sent",
    "post_voucher",
    "propose_period_close",
    "record_income",
    "reject_orders",
    "release_commitments",
    "reverse_voucher",
    "set_budget",
    "set_ceiling",
    "trial_balance",
    "validate_account",
    "void_batch_file",
]
