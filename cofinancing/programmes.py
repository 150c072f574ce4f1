"""What each ESF programme period allows and which rule caps public support with in-kind.

The project names its programme period (``Project.programme_period``); the report applies
that period's cost models and names the rule it checks, so a controller can see which one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cofinancing.models import CostModel, ProgrammePeriod


@dataclass(frozen=True)
class PeriodRules:
    cost_models: frozenset[str]
    max_flat_rate_percent: Decimal | None
    in_kind_rule: str  # the legal reference of the cap on public support with in-kind
    cap_text: Promise


CAP_TEXT = _(
    "Public support including contributions in kind may not exceed the eligible costs "
    "excluding contributions in kind."
)

RULES: dict[str, PeriodRules] = {
    ProgrammePeriod.P2000_2006: PeriodRules(
        frozenset({CostModel.ACTUAL}),
        None,
        "Reg. (EC) 1685/2000 as amended by 448/2004, Annex rule 1 point 1.6",
        CAP_TEXT,
    ),
    ProgrammePeriod.P2007_2013: PeriodRules(
        frozenset({CostModel.ACTUAL, CostModel.UNIT}),
        None,
        "Reg. (EC) 1828/2006 art. 51 / Reg. (EC) 1081/2006 art. 11",
        CAP_TEXT,
    ),
    ProgrammePeriod.P2014_2020: PeriodRules(
        frozenset({CostModel.ACTUAL, CostModel.UNIT, CostModel.FLAT_RATE}),
        Decimal("40"),
        "Reg. (EU) 1303/2013 art. 69(1)",
        CAP_TEXT,
    ),
    ProgrammePeriod.P2021_2027: PeriodRules(
        frozenset({CostModel.ACTUAL, CostModel.UNIT, CostModel.FLAT_RATE}),
        Decimal("40"),
        "Reg. (EU) 2021/1060 art. 67(1)",
        CAP_TEXT,
    ),
}
