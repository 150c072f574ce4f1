"""Need items as an ombud enters them, checked against the fund's rules field by field.

One check serves the services (which refuse with every problem in one list) and the pages
(which show each problem at its field while the ombud types), so the rule lives once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from moneyed import Money

from core.inputs import clean_text
from fund.models import Fund
from fund.money import format_money, parse_amount
from workflows import fund_rules

#: The most characters of a need description (the model refuses longer).
DESCRIPTION_MAX = 500

#: The fields of an item a problem can stand at.
CATEGORY, AMOUNT, DESCRIPTION = "category", "amount", "description"


class EnteredItem(Protocol):
    """What an entered item has: a category code, an amount as typed, a description."""

    @property
    def category(self) -> str: ...
    @property
    def amount(self) -> Any: ...
    @property
    def description(self) -> str: ...


@dataclass
class ItemsCheck:
    """The problems found, at their item's field (row index from 0) or for the whole list."""

    at_field: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    amounts: dict[int, Money] = field(default_factory=dict)
    descriptions: dict[int, str] = field(default_factory=dict)

    def add(self, row: int, name: str, problems: list[str]) -> None:
        if problems:
            self.at_field.setdefault((row, name), []).extend(problems)

    @property
    def ok(self) -> bool:
        return not self.at_field and not self.general

    def messages(self) -> list[str]:
        """Every problem, in the order of the items and their fields (each names its item)."""
        order = {CATEGORY: 0, DESCRIPTION: 1, AMOUNT: 2}
        keyed = sorted(self.at_field.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9)))
        return [p for _key, problems in keyed for p in problems] + self.general


def check_need_items(
    fund: Fund, items: Sequence[EnteredItem], *, positions: Sequence[int] | None = None
) -> ItemsCheck:
    """Every problem of the entered items under ``fund``'s rules (categories and limits).

    ``positions`` numbers the items as the page shows them (default 1, 2, …)."""
    check = ItemsCheck()
    if not items:
        check.general.append(_("An application needs at least one need item."))
    for row, item in enumerate(items):
        label = _("Item %(n)s") % {"n": positions[row] if positions else row + 1}
        check.add(
            row,
            CATEGORY,
            [f"{label}: {p}" for p in fund_rules.category_problems(fund, item.category)],
        )
        problems: list[str] = []
        check.descriptions[row] = clean_text(
            item.description, problems, field=label, max_length=DESCRIPTION_MAX, multiline=True
        )
        check.add(row, DESCRIPTION, problems)
        try:
            amount = parse_amount(item.amount, field=label)
        except ValidationError as exc:
            check.add(row, AMOUNT, list(exc.messages))
            continue
        check.add(row, AMOUNT, fund_rules.item_limit_problems(fund, amount, label=label))
        check.amounts[row] = amount
    if fund.max_per_application is not None and check.amounts:
        total = sum(check.amounts.values(), Money(0, "SEK"))
        if total > fund.max_per_application:
            check.general.append(
                _("The total %(total)s is over %(fund)s's limit of %(limit)s per application.")
                % {
                    "total": format_money(total),
                    "fund": fund.name,
                    "limit": format_money(fund.max_per_application),
                }
            )
    return check
