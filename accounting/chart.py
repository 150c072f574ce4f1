"""Which account of the installation's chart books each kind of event.

Every service books through a *role* (``chart.account("grants_paid")``), never a literal
account number, so a foundation can keep its existing chart: ``settings.LEDGER_ACCOUNTS``
maps a role to another account (``{"grants_paid": "6993"}``). The defaults follow BAS 2026
where BAS has an account for the purpose; where it has none (grants to beneficiaries as a
purpose cost) the default is an account in a free range, named in ``DEFAULTS`` and
documented in ``docs/accounting.md``.

A role mapped to an account that is missing from the chart, inactive or of the wrong type is a
configuration error (``chart_problems``; ``check_production`` refuses to start with one).
Changing the mapping changes where *new* vouchers go, never what is booked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from accounting.models import AccountType


@dataclass(frozen=True)
class AccountRole:
    number: str
    type: str
    name: str
    why: str


#: role -> default account (BAS 2026 unless said otherwise), its type and what it books.
DEFAULTS: dict[str, AccountRole] = {
    "bank": AccountRole(
        "1930", AccountType.ASSET, "Företagskonto / bank", "money in and out of the bank"
    ),
    "bank_suspense": AccountRole(
        "1689",
        AccountType.ASSET,
        "Bankdifferenser under utredning",
        "what the bank did that no order explains, until resolved",
    ),
    "accrued_income": AccountRole(
        "1790",
        AccountType.ASSET,
        "Upplupna intäkter",
        "co-financing earned (eligible costs incurred) and not yet received",
    ),
    "foundation_capital": AccountRole(
        "2061", AccountType.EQUITY, "Stiftelsekapital", "the foundation's capital"
    ),
    "retained_capital": AccountRole(
        "2067",
        AccountType.EQUITY,
        "Balanserat kapital",
        "earlier years' results not restricted to a fund",
    ),
    "result_of_year": AccountRole(
        "2069", AccountType.EQUITY, "Årets resultat", "the closed year's result until disposed"
    ),
    "restricted_funds": AccountRole(
        "2070",
        AccountType.EQUITY,
        "Ändamålsbestämda medel",
        "unused restricted gifts (a fund's own account: Fund.restricted_funds_account)",
    ),
    "conditional_grants": AccountRole(
        "2880",
        AccountType.LIABILITY,
        "Erhållna bidrag med villkor som ännu inte uppfyllts",
        "co-financing received ahead of the eligible costs it pays for",
    ),
    "grants_payable": AccountRole(
        "2890",
        AccountType.LIABILITY,
        "Beviljade, ej utbetalda bidrag",
        "grants decided and not yet paid (BAS 2890 övriga kortfristiga skulder)",
    ),
    "grant_eu": AccountRole("3981", AccountType.INCOME, "Erhållna EU-bidrag", "ESF support"),
    "grant_state": AccountRole(
        "3985", AccountType.INCOME, "Erhållna statliga bidrag", "state grants"
    ),
    "grant_municipal": AccountRole(
        "3987", AccountType.INCOME, "Erhållna kommunala bidrag", "municipal grants"
    ),
    "donation": AccountRole(
        "3993", AccountType.INCOME, "Erhållna gåvor och donationer", "gifts to a fund"
    ),
    "own_financing": AccountRole(
        "3890",
        AccountType.INCOME,
        "Egen insats i projekt",
        "the owner's own cash put into a co-financed project: credit on the project's object, "
        "debit on the owner's general object, so it nets to zero (not a BAS account: an "
        "internal allocation; map it to the foundation's own internal account)",
    ),
    "grants_paid": AccountRole(
        "6710",
        AccountType.EXPENSE,
        "Lämnade bidrag",
        "grants decided to beneficiaries, a purpose cost (not a BAS account: BAS's 6993 "
        "'Lämnade bidrag och gåvor' is a company's gifts; map this role to it if preferred)",
    ),
    "year_result": AccountRole(
        "8999",
        AccountType.EXPENSE,
        "Årets resultat",
        "the result account the year-end voucher moves the year's result through",
    ),
}


def account(role: str) -> str:
    """The account number this installation books ``role`` on."""
    if role not in DEFAULTS:
        raise KeyError(f"no account role {role!r}")
    mapped = getattr(settings, "LEDGER_ACCOUNTS", {}) or {}
    return str(mapped.get(role, DEFAULTS[role].number))


def mapping() -> dict[str, str]:
    """Every role and the account it books on here (for docs, audit and the year-end record)."""
    return {role: account(role) for role in DEFAULTS}


def chart_problems() -> list[str]:
    """Roles mapped to an account missing from the chart, inactive or of the wrong type."""
    from accounting.models import Account

    mapped = getattr(settings, "LEDGER_ACCOUNTS", {}) or {}
    problems = [
        f"LEDGER_ACCOUNTS names unknown role {role!r}" for role in mapped if role not in DEFAULTS
    ]
    accounts = {a.number: a for a in Account.objects.filter(number__in=set(mapping().values()))}
    for role, number in mapping().items():
        found = accounts.get(number)
        expected = DEFAULTS[role].type
        if found is None or not found.active:
            problems.append(f"{role}: account {number} is not an active account of the chart")
        elif found.type != expected:
            problems.append(f"{role}: account {number} is {found.type}, expected {expected}")
    return problems + _open_balances_left_behind()


#: Balance-sheet roles whose open balance only the services that booked it settle or read
#: (co-financing receivable and advance, bank differences): remapping them while the default
#: account still holds a balance would leave it stranded. Decided grants are settled on the
#: account their decision booked, so ``grants_payable`` may move at any time.
SETTLED_BY_ROLE = ("accrued_income", "conditional_grants", "bank_suspense")


def _open_balances_left_behind() -> list[str]:
    from django.db.models import Sum

    from accounting.models import Posting
    from fund.money import quantize

    problems = []
    for role in SETTLED_BY_ROLE:
        default = DEFAULTS[role].number
        if account(role) == default:
            continue
        total = Posting.objects.filter(account__number=default).aggregate(t=Sum("amount"))["t"]
        left = quantize(Decimal(str(total or 0)))
        if left:
            problems.append(
                f"{role}: mapped to {account(role)}, but {default} still holds {left}; "
                f"settle it (or move it with a voucher) before remapping"
            )
    return problems
