"""Which account of the installation's chart books each kind of event.

Every service books through a *role* (``chart.account("grants_paid")``), never a literal
account number, so a foundation can keep its existing chart: ``settings.LEDGER_ACCOUNTS``
maps a role to another account (``{"grants_paid": "6993"}``). The defaults follow BAS 2026
where BAS has an account for the purpose; where it has none (grants to beneficiaries as a
purpose cost) the default is an account in a free range, named in ``DEFAULTS`` and
documented in ``docs/accounting.md``.

A role mapped to an account that is missing from the chart, inactive or of the wrong type is a
configuration error (``chart_problems``; ``check_production`` refuses to start with one).

A remap is a step of its own: the mapping the books use is recorded (``ChartRoleMapping``,
``recorded_mapping``), a settings mapping that differs from it is *pending*
(``pending_changes``) and a treasurer applies it (``apply_mapping``, ``manage.py
chart_mapping --apply``), which refuses while the old account holds something the remap
would strand. While a change is pending, only manual vouchers are booked (``post_voucher``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

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
    """Every role and the account the settings map it to (where new vouchers go)."""
    return {role: account(role) for role in DEFAULTS}


#: Types whose accounts carry a balance from year to year (the balance sheet).
BALANCE_TYPES = (AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY)

APPLY_COMMAND = "manage.py chart_mapping --apply --user U"


@dataclass(frozen=True)
class PendingChange:
    """A role the settings map to another account than the one the books use."""

    role: str
    books: str  # the account the books use (recorded; the BAS default when none is)
    settings: str  # the account settings.LEDGER_ACCOUNTS maps the role to


def recorded_mapping() -> dict[str, str]:
    """Every role and the account the books use for it (one query)."""
    from accounting.models import ChartRoleMapping

    recorded = dict(ChartRoleMapping.objects.values_list("role", "account_number"))
    return {role: recorded.get(role, default.number) for role, default in DEFAULTS.items()}


def pending_changes() -> list[PendingChange]:
    """Roles whose settings mapping is not yet applied to the books (one query)."""
    recorded = recorded_mapping()
    return [
        PendingChange(role, recorded[role], account(role))
        for role in DEFAULTS
        if account(role) != recorded[role]
    ]


def accounts_of(role: str) -> tuple[str, ...]:
    """Every account ``role`` has booked on (one query); see ``role_accounts``."""
    if role not in DEFAULTS:
        raise KeyError(f"no account role {role!r}")
    return role_accounts()[role]


def role_accounts() -> dict[str, tuple[str, ...]]:
    """Every role and every account it has booked on: its BAS default, the accounts it was
    remapped from, the one the books use and the settings' (one query). Readers of balances
    across years and of earlier years read them all: a remap strands nothing on an old
    account (``apply_mapping``), but what was booked there before the remap is still the
    role's."""
    from accounting.models import ChartRoleMapping

    rows = {row.role: row for row in ChartRoleMapping.objects.all()}
    accounts = {}
    for role, default in DEFAULTS.items():
        numbers = [default.number]
        row = rows.get(role)
        if row is not None:
            numbers += [*row.earlier_accounts, row.account_number]
        numbers.append(account(role))
        accounts[role] = tuple(dict.fromkeys(numbers))
    return accounts


def chart_problems() -> list[str]:
    """Roles mapped to an account missing from the chart, inactive or of the wrong type, and
    every settings remap not yet applied to the books."""
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
    by_account: dict[str, list[str]] = {}
    for role, number in mapping().items():
        by_account.setdefault(number, []).append(role)
    problems += [
        f"roles {', '.join(roles)} are all mapped to account {number}: one account per role"
        for number, roles in sorted(by_account.items())
        if len(roles) > 1
    ]
    problems += [
        f"role {change.role}: the settings map it to {change.settings}, the books use "
        f"{change.books}; apply the change with `{APPLY_COMMAND}`"
        for change in pending_changes()
    ]
    return problems


def apply_mapping(*, actor: Any) -> list[PendingChange]:
    """Record the settings mapping as the one the books use, after checking that no old
    account strands what it holds; all or nothing, each change with its audit event."""
    from accounting.models import ChartRoleMapping
    from audit.services import record_event
    from core.exceptions import PermissionDenied, ValidationFailed
    from core.roles import Role, has_role

    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(_("Only a treasurer may change which accounts the books use."))
    unknown = sorted(set(getattr(settings, "LEDGER_ACCOUNTS", {}) or {}) - set(DEFAULTS))
    if unknown:
        raise ValidationFailed(
            _("The settings name chart roles that do not exist: %(roles)s.")
            % {"roles": ", ".join(unknown)}
        )
    with transaction.atomic():
        # Lock the recorded rows: two treasurers applying at once apply it once.
        list(ChartRoleMapping.objects.select_for_update().order_by("role"))
        changes = pending_changes()
        problems = [problem for change in changes for problem in remap_problems(change)]
        if problems:
            raise ValidationFailed(problems)
        now = timezone.now()
        for change in changes:
            row = ChartRoleMapping.objects.filter(role=change.role).first()
            if row is None:
                row = ChartRoleMapping(role=change.role, earlier_accounts=[])
            row.earlier_accounts = [
                n for n in [*row.earlier_accounts, change.books] if n != change.settings
            ]
            row.account_number = change.settings
            row.recorded_at = now
            row.recorded_by = actor
            row.save()
            record_event(
                action="ledger.chart_mapping_changed",
                actor=actor,
                role=Role.TREASURER,
                object_type="chart_role",
                object_ref=change.role,
                payload={
                    "role": change.role,
                    "old_account": change.books,
                    "new_account": change.settings,
                },
            )
    return changes


def remap_problems(change: PendingChange) -> list[str]:
    """Why ``change`` cannot be applied now (empty: it can), in a treasurer's words."""
    from accounting.models import Account

    expected = DEFAULTS[change.role].type
    params = {"role": change.role, "old": change.books, "new": change.settings}
    problems = []
    new = Account.objects.filter(number=change.settings).first()
    if new is None or not new.active:
        problems.append(
            _(
                "%(role)s: account %(new)s is not an active account of the chart; add it to "
                "the chart (or activate it) before the remap."
            )
            % params
        )
    elif new.type != expected:
        problems.append(
            _("%(role)s: account %(new)s is of type %(type)s; this role books on %(expected)s.")
            % {**params, "type": new.get_type_display(), "expected": AccountType(expected).label}
        )
    shared = _roles_on(change.settings, but=change.role)
    if shared:
        problems.append(
            _(
                "%(role)s: account %(new)s is (or was) booked by %(others)s; one account books "
                "one kind of event, or its figures mix - choose an account of its own."
            )
            % {**params, "others": ", ".join(shared)}
        )
    if expected in BALANCE_TYPES:
        held = _balances_held(change.books)
        if held:
            problems.append(
                _(
                    "%(role)s: account %(old)s still holds %(held)s; move it to %(new)s with a "
                    "manual voucher (on the same fund and project) before the remap."
                )
                % {**params, "held": "; ".join(held)}
            )
    else:
        years = _open_years_with_postings(change.books)
        if years:
            problems.append(
                _(
                    "%(role)s: account %(old)s has postings in %(years)s, not closed yet; "
                    "remap after that year-end, so that a year is booked on one account."
                )
                % {**params, "years": ", ".join(years)}
            )
    return problems


def _roles_on(number: str, *, but: str) -> list[str]:
    """The other roles that book ``number`` now, booked it before, or have it as default."""
    accounts = role_accounts()
    settings_mapping = mapping()
    return sorted(
        role
        for role in DEFAULTS
        if role != but
        and (
            number in accounts[role]
            or number == settings_mapping[role]
            or number == DEFAULTS[role].number
        )
    )


def _balances_held(number: str) -> list[str]:
    """The non-zero balances of ``number`` over all years, per fund, project and cost centre."""
    from accounting.models import Posting
    from fund.money import quantize

    rows = (
        Posting.objects.filter(account__number=number)
        .order_by()
        .values_list("fund_object__code", "project__code", "cost_centre__code")
        .annotate(total=Sum("amount"))
        .order_by("fund_object__code", "project__code", "cost_centre__code")
    )
    held = []
    for fund, project, cost_centre, total in rows:
        amount = quantize(Decimal(str(total or 0)))
        if not amount:
            continue
        where = [
            label % {"code": code}
            for label, code in (
                (_("fund %(code)s"), fund),
                (_("project %(code)s"), project),
                (_("cost centre %(code)s"), cost_centre),
            )
            if code
        ]
        held.append(f"{amount} ({', '.join(where)})" if where else str(amount))
    return held


def _open_years_with_postings(number: str) -> list[str]:
    """The fiscal years, not locked by their year-end, in which ``number`` has postings."""
    from accounting.models import Posting, YearEndClosing

    locked = YearEndClosing.objects.filter(locked_at__isnull=False).values("fiscal_year_id")
    starts = (
        Posting.objects.filter(account__number=number)
        .exclude(voucher__fiscal_year_id__in=locked)
        .order_by("voucher__fiscal_year__start")
        .values_list("voucher__fiscal_year__start", flat=True)
        .distinct()
    )
    return [f"{start:%Y}" for start in starts]
