"""The project financial report (lägesrapport / ansökan om utbetalning): a selector.

Rows: the cost categories, then the financing rows. Columns: budget (the decision),
this period (``date_from``-``date_to``), cumulative (project start-``date_to``), remaining
(budget - cumulative), % used (cumulative / budget) and ESF share:

* for a cost row, the part of it the ESF finances at the decided rate (cumulative x rate);
* for a financing row, its share of the total financing (cumulative, in %).

Where the figures come from:

* cost rows: ledger postings tagged with the project (dimension 6), by
  ``cofinancing.categories``; staff also holds the in-kind time sheets (hours x rate);
  indirect costs are the indirect rate on the cash staff costs; less income is negative;
  under the flat-rate cost model the flat rate on cash staff costs replaces every other
  cost row except participant costs and income (shown on the indirect row). Unit costs
  are not modelled: such a project is reported on its actual costs;
* ESF: eligible cost x decided rate (what may be claimed);
* public / private cash: grants and gifts credited to the project in the ledger;
* public / private in-kind: time sheets, by the kind of the partner's in-kind source;
* participant allowances: the participant costs, when the decision finances them so;
* owner's own cash: what remains of the eligible cost (the owner covers the rest).

Validations (``Finding``; errors refuse a final report, warnings are shown):

* ``budget_unbalanced``: decided financing ≠ budgeted cost;
* ``financing_not_cost``: financing ≠ eligible cost (over-financed, or a remainder that no
  decided source covers);
* ``esf_rate_exceeded``: decided ESF amount above the rate, or ESF received above the
  decided share of the eligible cost;
* ``in_kind_booked_as_cost``: a time sheet's attestation reference on a project voucher that
  books staff costs (the same time counted twice);
* ``owner_in_kind``: the owner's staff time as in-kind (the owner's own costs are cash);
* ``in_kind_without_source``: a partner's time sheets without an in-kind funding source;
* ``in_kind_above_market_value``: an hour given in kind valued above the project's
  market rate (when one is set).

Fractional hours cannot reach the report: the model stores whole hours and the import
refuses anything else.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from accounting.models import Dimension, Posting, Voucher
from cofinancing.categories import ESF_RECEIVED, classify
from cofinancing.models import (
    IN_KIND,
    BudgetLine,
    CostCategory,
    CostModel,
    FundingKind,
    FundingSource,
    PartnerRole,
    Project,
    TimeSheetEntry,
)
from fund.money import CURRENCY, quantize
from workflows.exceptions import ValidationFailed

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


@dataclass
class Row:
    key: str
    label: str
    budget: Decimal
    period: Decimal
    cumulative: Decimal
    esf_share: Decimal | None = None

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.cumulative

    @property
    def used_percent(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.cumulative / self.budget * HUNDRED).quantize(Decimal("0.01"))


@dataclass
class Finding:
    code: str
    severity: str  # "error" or "warning"
    message: str


@dataclass
class TimeSheetLine:
    person_ref: str
    partner: str
    role: str
    pay_group: str
    month: dt.date
    hours: int
    hourly_rate: Decimal
    amount: Decimal
    attestation_ref: str


@dataclass
class ProjectReport:
    project: Project
    date_from: dt.date
    date_to: dt.date
    costs: list[Row]
    financing: list[Row]
    time_sheets: list[TimeSheetLine]
    findings: list[Finding] = field(default_factory=list)

    @property
    def total_cost(self) -> Row:
        return _total("total_cost", _("Total eligible cost"), self.costs)

    @property
    def total_financing(self) -> Row:
        return _total("total_financing", _("Total financing"), self.financing)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def _total(key: str, label: str, rows: list[Row]) -> Row:
    return Row(
        key,
        label,
        sum((r.budget for r in rows), ZERO),
        sum((r.period for r in rows), ZERO),
        sum((r.cumulative for r in rows), ZERO),
    )


def _ledger(project: Project, start: dt.date, end: dt.date) -> dict[str, Decimal]:
    """Per cost category / financing row: the postings' sum (debit +, credit -)."""
    rows = (
        Posting.objects.filter(
            project__dimension__number=Dimension.PROJECT,
            project__code=project.code,
            voucher__date__range=(start, end),
        )
        .order_by()
        .values("account__number", "amount_currency")
        .annotate(total=Sum("amount"))
        .values_list("account__number", "amount_currency", "total")
    )
    result: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, currency, total in rows:
        if currency != CURRENCY:
            raise ValidationFailed(
                _("Project %(p)s has postings in %(c)s; the report is in SEK only.")
                % {"p": project.code, "c": currency}
            )
        key = classify(account)
        if key is not None:
            result[key] += quantize(total)
    return result


def _in_kind_kinds(project: Project) -> dict[int, str]:
    return {
        source.partner_id: source.kind
        for source in project.funding.filter(kind__in=IN_KIND, partner__isnull=False)
        if source.partner_id is not None
    }


def _time_sheets(project: Project, start: dt.date, end: dt.date) -> list[TimeSheetEntry]:
    return list(
        TimeSheetEntry.objects.filter(
            project=project, month__gte=start.replace(day=1), month__lte=end
        ).select_related("partner")
    )


def _in_kind(project: Project, start: dt.date, end: dt.date) -> dict[str, Decimal]:
    kinds = _in_kind_kinds(project)
    result: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in _time_sheets(project, start, end):
        result[kinds.get(entry.partner_id, FundingKind.PUBLIC_IN_KIND)] += entry.amount
    return result


def _budget(project: Project) -> dict[str, Decimal]:
    whole: dict[str, Decimal] = defaultdict(lambda: ZERO)
    yearly: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in BudgetLine.objects.filter(project=project):
        target = whole if line.year is None else yearly
        target[line.category] += line.amount.amount
    return {key: whole.get(key, yearly.get(key, ZERO)) for key in {*whole, *yearly}}


#: Under the flat-rate cost model these are covered by the flat rate on staff costs.
COVERED_BY_FLAT_RATE = (
    CostCategory.EXTERNAL_SERVICES,
    CostCategory.PREMISES,
    CostCategory.TRAVEL,
    CostCategory.EQUIPMENT,
    CostCategory.INVESTMENTS,
    CostCategory.OTHER,
)


def _costs(project: Project, ledger: dict[str, Decimal], in_kind: dict[str, Decimal]) -> dict:
    costs = {str(c): ledger.get(str(c), ZERO) for c in CostCategory}
    cash_staff = costs[CostCategory.STAFF]
    if project.cost_model == CostModel.FLAT_RATE:
        # e.g. ESF 2021-27: staff costs + up to 40 % of them, covering all other costs
        for category in COVERED_BY_FLAT_RATE:
            costs[category] = ZERO
        rate = (project.flat_rate_percent or ZERO) / HUNDRED
        costs[CostCategory.INDIRECT] = quantize(cash_staff * rate)
    else:
        costs[CostCategory.INDIRECT] = quantize(cash_staff * project.indirect_rate)
    costs[CostCategory.STAFF] = cash_staff + sum(in_kind.values(), ZERO)
    return costs


def _financing(
    project: Project,
    eligible: Decimal,
    ledger: dict[str, Decimal],
    in_kind: dict[str, Decimal],
    participant_costs: Decimal,
    has_allowance: bool,
) -> dict[str, Decimal]:
    financing = {str(k): ZERO for k in FundingKind}
    financing[FundingKind.ESF] = quantize(eligible * project.esf_rate)
    financing[FundingKind.PUBLIC_CASH] = -ledger.get(FundingKind.PUBLIC_CASH, ZERO)
    financing[FundingKind.PRIVATE_CASH] = -ledger.get(FundingKind.PRIVATE_CASH, ZERO)
    for kind in IN_KIND:
        financing[kind] = in_kind.get(kind, ZERO)
    if has_allowance:
        financing[FundingKind.PARTICIPANT_ALLOWANCE] = participant_costs
    others = sum(financing.values(), ZERO)
    financing[FundingKind.OWN_CASH] = eligible - others
    return financing


def _figures(project: Project, start: dt.date, end: dt.date, has_allowance: bool) -> tuple:
    ledger = _ledger(project, start, end)
    in_kind = _in_kind(project, start, end)
    costs = _costs(project, ledger, in_kind)
    eligible = sum(costs.values(), ZERO)
    financing = _financing(
        project,
        eligible,
        ledger,
        in_kind,
        costs[CostCategory.PARTICIPANT],
        has_allowance,
    )
    return costs, financing, ledger


def build_report(project: Project, date_from: dt.date, date_to: dt.date) -> ProjectReport:
    if date_from > date_to:
        raise ValidationFailed(_("The start date is after the end date."))
    sources = list(project.funding.select_related("partner"))
    kinds = {s.kind for s in sources}
    has_allowance = FundingKind.PARTICIPANT_ALLOWANCE in kinds
    period_costs, period_fin, _ledger_p = _figures(project, date_from, date_to, has_allowance)
    cum_costs, cum_fin, cum_ledger = _figures(project, project.start, date_to, has_allowance)
    budget = _budget(project)
    financing_budget: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for source in sources:
        if source.decided_amount is not None:
            financing_budget[source.kind] += source.decided_amount.amount

    cost_rows = [
        Row(
            str(c),
            str(c.label),
            budget.get(str(c), ZERO),
            period_costs[str(c)],
            cum_costs[str(c)],
            quantize(cum_costs[str(c)] * project.esf_rate),
        )
        for c in CostCategory
    ]
    total_financing_cum = sum(cum_fin.values(), ZERO)
    financing_rows = [
        Row(
            str(k),
            str(k.label),
            financing_budget.get(str(k), ZERO),
            period_fin[str(k)],
            cum_fin[str(k)],
            (cum_fin[str(k)] / total_financing_cum * HUNDRED).quantize(Decimal("0.01"))
            if total_financing_cum
            else None,
        )
        for k in FundingKind
    ]
    report = ProjectReport(
        project=project,
        date_from=date_from,
        date_to=date_to,
        costs=cost_rows,
        financing=financing_rows,
        time_sheets=_appendix(project, date_from, date_to),
    )
    report.findings = _validate(project, report, sources, cum_ledger, cum_fin, kinds, date_to)
    return report


def _appendix(project: Project, start: dt.date, end: dt.date) -> list[TimeSheetLine]:
    entries = sorted(
        _time_sheets(project, start, end),
        key=lambda e: (e.month, e.partner.organisation_name, e.person_ref),
    )
    return [
        TimeSheetLine(
            person_ref=e.person_ref,
            partner=e.partner.organisation_name,
            role=e.partner.role,
            pay_group=e.pay_group,
            month=e.month,
            hours=e.hours,
            hourly_rate=e.hourly_rate.amount,
            amount=e.amount,
            attestation_ref=e.attestation_ref,
        )
        for e in entries
    ]


def _validate(
    project: Project,
    report: ProjectReport,
    sources: list[FundingSource],
    cum_ledger: dict[str, Decimal],
    cum_fin: dict[str, Decimal],
    kinds: set[str],
    date_to: dt.date,
) -> list[Finding]:
    findings: list[Finding] = []
    cost_budget = report.total_cost.budget
    financing_budget = report.total_financing.budget
    if cost_budget != financing_budget:
        findings.append(
            Finding(
                "budget_unbalanced",
                "error",
                _("The decided financing (%(f)s) does not equal the budgeted cost (%(c)s).")
                % {"f": financing_budget, "c": cost_budget},
            )
        )
    own = cum_fin[FundingKind.OWN_CASH]
    if own < 0:
        findings.append(
            Finding(
                "financing_not_cost",
                "error",
                _("The financing exceeds the eligible cost by %(x)s.") % {"x": -own},
            )
        )
    elif own > 0 and FundingKind.OWN_CASH not in kinds:
        findings.append(
            Finding(
                "financing_not_cost",
                "error",
                _(
                    "The financing falls short of the eligible cost by %(x)s and the decision "
                    "has no own cash to cover it."
                )
                % {"x": own},
            )
        )
    allowed = quantize(cost_budget * project.esf_rate)
    for source in sources:
        if source.kind != FundingKind.ESF:
            continue
        if source.decided_amount is not None and source.decided_amount.amount > allowed:
            findings.append(
                Finding(
                    "esf_rate_exceeded",
                    "error",
                    _(
                        "The decided ESF amount %(a)s is above %(r)s %% of the budgeted cost "
                        "(%(allowed)s)."
                    )
                    % {
                        "a": source.decided_amount.amount,
                        "r": project.esf_rate_percent,
                        "allowed": allowed,
                    },
                )
            )
        if (
            source.decided_rate_percent is not None
            and source.decided_rate_percent != project.esf_rate_percent
        ):
            findings.append(
                Finding(
                    "esf_rate_exceeded",
                    "error"
                    if source.decided_rate_percent > project.esf_rate_percent
                    else "warning",
                    _("The ESF source's rate %(s)s %% differs from the project's %(p)s %%.")
                    % {"s": source.decided_rate_percent, "p": project.esf_rate_percent},
                )
            )
    received = -cum_ledger.get(ESF_RECEIVED, ZERO)
    if received > cum_fin[FundingKind.ESF]:
        findings.append(
            Finding(
                "esf_rate_exceeded",
                "error",
                _(
                    "ESF received (%(r)s) is above the decided rate's share of the eligible "
                    "cost (%(s)s)."
                )
                % {"r": received, "s": cum_fin[FundingKind.ESF]},
            )
        )
    findings += _check_time_sheets(project, date_to)
    return findings


def _check_time_sheets(project: Project, date_to: dt.date) -> list[Finding]:
    findings: list[Finding] = []
    entries = _time_sheets(project, project.start, date_to)
    in_kind_partners = set(_in_kind_kinds(project))
    owner_refs = sorted({e.attestation_ref for e in entries if e.partner.role == PartnerRole.OWNER})
    if owner_refs:
        findings.append(
            Finding(
                "owner_in_kind",
                "error",
                _(
                    "The project owner's staff time is reported in kind (%(refs)s); the "
                    "owner's own costs are cash costs booked in the ledger."
                )
                % {"refs": ", ".join(owner_refs)},
            )
        )
    missing = sorted(
        {
            e.partner.organisation_name
            for e in entries
            if e.partner_id not in in_kind_partners and e.partner.role != PartnerRole.OWNER
        }
    )
    if missing:
        findings.append(
            Finding(
                "in_kind_without_source",
                "warning",
                _("No in-kind funding source is decided for %(p)s; counted as public in-kind.")
                % {"p": ", ".join(missing)},
            )
        )
    ceiling = project.market_hourly_rate
    if ceiling is not None:
        above = sorted(
            {e.attestation_ref for e in entries if e.hourly_rate.amount > ceiling.amount}
        )
        if above:
            findings.append(
                Finding(
                    "in_kind_above_market_value",
                    "error",
                    _(
                        "In-kind hours valued above the market rate of %(r)s per hour "
                        "(attestations %(refs)s)."
                    )
                    % {"r": ceiling.amount, "refs": ", ".join(above)},
                )
            )
    refs = {e.attestation_ref for e in entries}
    if refs:
        staff_texts = (
            Voucher.objects.filter(
                postings__project__dimension__number=Dimension.PROJECT,
                postings__project__code=project.code,
                postings__account__number__gte="7000",
                postings__account__number__lte="7699",
                date__lte=date_to,
            )
            .distinct()
            .values_list("text", flat=True)
        )
        doubled = sorted({ref for text in staff_texts for ref in refs if ref in text})
        if doubled:
            findings.append(
                Finding(
                    "in_kind_booked_as_cost",
                    "error",
                    _(
                        "Time reported in kind is also booked as a staff cost in the ledger "
                        "(attestations %(refs)s): the same hours would be counted twice."
                    )
                    % {"refs": ", ".join(doubled)},
                )
            )
    return findings
