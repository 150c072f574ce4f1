"""Which BAS account is which cost category or financing row of a co-financed project.

Only postings tagged with the project (dimension 6) count. The table, first match wins:

=============  ===============================  ======================================
accounts       cost category / financing row    why
=============  ===============================  ======================================
5000-5199      premises                         lokal- och fastighetskostnader
5400-5499      equipment and material           förbrukningsinventarier och -material
6100-6199      equipment and material           kontorsmateriel, trycksaker
5800-5899      travel and lodging               resekostnader
6530-6559      external services                redovisning, IT-tjänster, konsulter
6710           participant costs                bidrag till projektets deltagare
7000-7699      staff                            löner, sociala avgifter, pensioner
7800-7899      investments and depreciation     avskrivningar
4000-7999      other costs                      every other cost account
3981           ESF recognised                   (accrued; the ESF row is the entitlement)
3985, 3987     public cash                      statliga och kommunala bidrag
3993           private cash                     gåvor och donationer
3890           owner's own cash                 egen insats (chart role own_financing)
3000-3999,     less project income              other income the project earned
8300-8399                                       (sales, fees, interest income)
other          not counted                      balance sheet, financial costs (8400-),
                                                taxes: not eligible
=============  ===============================  ======================================

The financing accounts are the chart roles (``accounting.chart``: grant_eu, grant_state,
grant_municipal, donation, own_financing), so an installation's own mapping is followed.

Indirect costs are not booked: they are the project's flat rate on its **cash** staff costs
(the ledger's staff postings; in-kind staff time is financed in kind and carries no
overhead).
"""

from __future__ import annotations

from accounting import chart
from cofinancing.models import CostCategory, FundingKind

ESF_RECEIVED = "esf_received"

COST_RANGES: tuple[tuple[int, int, str], ...] = (
    (5000, 5199, CostCategory.PREMISES),
    (5400, 5499, CostCategory.EQUIPMENT),
    (6100, 6199, CostCategory.EQUIPMENT),
    (5800, 5899, CostCategory.TRAVEL),
    (6530, 6559, CostCategory.EXTERNAL_SERVICES),
    (6710, 6710, CostCategory.PARTICIPANT),
    (7000, 7699, CostCategory.STAFF),
    (7800, 7899, CostCategory.INVESTMENTS),
    (4000, 7999, CostCategory.OTHER),
)

FINANCING_ROLES: dict[str, str] = {
    "grant_eu": ESF_RECEIVED,
    "grant_state": FundingKind.PUBLIC_CASH,
    "grant_municipal": FundingKind.PUBLIC_CASH,
    "donation": FundingKind.PRIVATE_CASH,
    "own_financing": FundingKind.OWN_CASH,
}


def financing_accounts() -> dict[str, str]:
    """Account number -> financing row, through this installation's chart mapping (no query)."""
    return {chart.account(role): str(row) for role, row in FINANCING_ROLES.items()}


def earlier_financing_accounts() -> dict[str, str]:
    """Account number -> financing row for every account a financing role has booked on,
    before a remap included (one query)."""
    accounts = chart.role_accounts()
    return {number: str(row) for role, row in FINANCING_ROLES.items() for number in accounts[role]}


def classify(account: str) -> str | None:
    """The cost category or financing row of a BAS account; None for balance accounts."""
    financing = financing_accounts()
    if account in financing:
        return financing[account]
    number = int(account)
    for low, high, category in COST_RANGES:
        if low <= number <= high:
            return str(category)
    if 3000 <= number <= 3999 or 8000 <= number <= 8999:
        # Income booked on a financing role's account before a remap is still financing,
        # not "less income" lowering the eligible cost. Asked only for income accounts not
        # financing now, so a report reads the chart's history rarely, if ever.
        earlier = earlier_financing_accounts().get(account)
        if earlier is not None:
            return earlier
    if 3000 <= number <= 3999 or 8300 <= number <= 8399:
        return str(CostCategory.LESS_INCOME)
    return None
