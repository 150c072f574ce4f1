"""A fund's rules, checked when items are entered and again at decision.

Each check returns the list of problems in words for people; an empty list means allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from core.inputs import shown
from fund.models import Application, Fund, NeedCategory
from fund.money import format_money
from fund.states import State
from workflows.models import Decision, DecisionStatus

#: States in which an application's approved amounts count against the person's yearly limit.
GRANTED_STATES = (State.APPROVED, State.PAYOUT_SCHEDULED, State.PAID, State.CLOSED)


def category_problems(fund: Fund, category: str) -> list[str]:
    if category not in NeedCategory.values:
        return [_("“%(category)s” is not a known need category.") % {"category": shown(category)}]
    if category not in fund.allowed_categories:
        return [
            _("%(fund)s does not grant support for “%(category)s”.")
            % {"fund": fund.name, "category": NeedCategory(category).label}
        ]
    return []


def item_limit_problems(fund: Fund, amount: Money, *, label: str) -> list[str]:
    if fund.max_per_item is not None and amount > fund.max_per_item:
        return [
            _("%(label)s: %(amount)s is over %(fund)s's limit of %(limit)s per need item.")
            % {
                "label": label,
                "amount": format_money(amount),
                "fund": fund.name,
                "limit": format_money(fund.max_per_item),
            }
        ]
    return []


def scope_problems(application: Application) -> list[str]:
    scope = application.fund.geographic_scope
    if scope and application.beneficiary.region not in scope:
        return [
            _("%(fund)s only supports people in the counties %(scope)s.")
            % {"fund": application.fund.name, "scope": ", ".join(scope)}
        ]
    return []


def _same_person(application: Application, prefix: str) -> Q:
    """The same person by personnummer index (so a twin record resets nothing), else by record."""
    person = application.beneficiary
    if person.personnummer_index:
        return Q(**{f"{prefix}beneficiary__personnummer_index": person.personnummer_index})
    return Q(**{f"{prefix}beneficiary_id": person.pk})


def granted_this_year(application: Application, *, year: int | None = None) -> Money:
    """What the same person was granted, or awaits a second signature for, from this fund.

    Counts effective decisions of cases in granted states in ``year`` (default: this year,
    when the decision being checked takes effect) and every decision still awaiting its
    second signature; the case being decided is left out.
    """
    year = year or timezone.localdate().year
    counted = Q(
        status=DecisionStatus.EFFECTIVE,
        application__state__in=GRANTED_STATES,
        effective_at__year=year,
    ) | Q(status=DecisionStatus.AWAITING_SIGNATURE)
    total = (
        Decision.objects.filter(
            counted,
            _same_person(application, "application__"),
            application__fund_id=application.fund_id,
            total_approved_currency="SEK",
        )
        .exclude(application_id=application.pk)
        .aggregate(total=Sum("total_approved"))["total"]
    )
    return Money(total or Decimal("0.00"), "SEK")


def decision_problems(application: Application, amounts: Mapping[int, Money]) -> list[str]:
    """The fund's limits over the amounts a decision would grant, per item id."""
    fund = application.fund
    problems: list[str] = []
    items = {item.pk: item for item in application.items.all()}
    for item_id, amount in amounts.items():
        if amount.amount == 0:
            continue
        item = items[item_id]
        problems += category_problems(fund, item.category)
        problems += item_limit_problems(fund, amount, label=_("Item %(n)s") % {"n": item.position})
    total = sum(amounts.values(), Money(0, "SEK"))
    if fund.max_per_application is not None and total > fund.max_per_application:
        problems.append(
            _("The total %(total)s is over %(fund)s's limit of %(limit)s per application.")
            % {
                "total": format_money(total),
                "fund": fund.name,
                "limit": format_money(fund.max_per_application),
            }
        )
    if fund.max_per_person_year is not None and total.amount > 0:
        already = granted_this_year(application)
        if already + total > fund.max_per_person_year:
            problems.append(
                _(
                    "The person was already granted %(already)s from %(fund)s this year; "
                    "with %(total)s the yearly limit of %(limit)s would be exceeded."
                )
                % {
                    "already": format_money(already),
                    "fund": fund.name,
                    "total": format_money(total),
                    "limit": format_money(fund.max_per_person_year),
                }
            )
    if total.amount > 0:
        problems += scope_problems(application)
    return problems
