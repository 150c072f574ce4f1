"""The project financial report (lägesrapport / ansökan om utbetalning): a selector.

Rows: the cost categories, then the financing rows, then the gap (cost not financed).
Columns: budget (the decision), this period (``date_from``-``date_to``), cumulative (project
start-``date_to``), remaining (budget - cumulative), % used (cumulative / budget), and two
columns that never mix units: the ESF share in SEK (cost rows: cumulative x decided rate)
and the share of all financing in % (financing rows).

Where the figures come from:

* cost rows: ledger postings tagged with the project (dimension 6), by
  ``cofinancing.categories``; staff also holds the in-kind time sheets (hours x rate);
  indirect costs are the indirect rate on the cash staff costs; less income is negative;
  under the flat-rate cost model the flat rate on cash staff costs replaces every other
  cost row except participant costs and income (shown on the indirect row). Which cost
  models a project may use follows its programme period (``cofinancing.programmes``);
* ESF: the entitlement, eligible cost x decided rate; the ESF section beside it splits it
  into entitled, claimed (the payment claims submitted by the report's end,
  ``cofinancing.esf_claims``), received and outstanding (claimed - received), with the
  income booked beside them - claims and money read up to the end asked for, even past the
  project's end (the last claim is submitted after it);
* public / private cash: grants and gifts credited to the project in the ledger;
* public / private in-kind: time sheets, by the kind of the partner's in-kind source;
* participant allowances: allowances paid to participants by others. A participant cost
  the project paid itself is a cost financed by the project's financing: it is not
  counted again as financing (nothing in the ledger is an allowance paid by others);
* owner's own cash: the ``own_financing`` postings on the project in the ledger - never a
  balancing figure. What no financing covers is the gap row.

The report period is clipped to the project's dates (a finding says so); a period wholly
outside them is refused. The checks are in ``cofinancing.report_checks``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from accounting.models import Dimension, Posting
from cofinancing.categories import classify
from cofinancing.esf_ledger import esf_ledger
from cofinancing.models import (
    IN_KIND,
    BudgetLine,
    CostCategory,
    CostModel,
    FundingKind,
    FundingSource,
    Project,
    TimeSheetEntry,
)
from core.exceptions import ValidationFailed
from fund.money import CURRENCY, quantize

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")

#: Financing that is public support (the cap on public support with in-kind).
PUBLIC_SUPPORT = (FundingKind.ESF, FundingKind.PUBLIC_CASH, FundingKind.PUBLIC_IN_KIND)


@dataclass
class Row:
    key: str
    label: str
    budget: Decimal
    period: Decimal
    cumulative: Decimal
    esf_share: Decimal | None = None  # SEK, cost rows
    share_percent: Decimal | None = None  # %, financing rows

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
class ClaimLine:
    """A payment claim to the co-financier, as submitted."""

    number: int
    period_from: dt.date
    period_to: dt.date
    submitted_on: dt.date
    amount: Decimal
    reference: str


@dataclass
class EsfStatus:
    """ESF up to the report's end: what the costs entitle to, what was claimed (the payment
    claims submitted by then), what came in, and what is still to come on the claims
    (negative: received ahead of the claims). The income booked is shown beside them: the
    ledger accrues income as the costs arise, claimed or not."""

    entitled: Decimal
    claimed: Decimal
    received: Decimal
    booked: Decimal = ZERO
    #: The rate's share of the eligible cost, when it is above the ESF amount decided (the
    #: entitlement is then the decided amount); None when the decision does not limit it.
    above_decision: Decimal | None = None
    claims: list[ClaimLine] = field(default_factory=list)

    @property
    def outstanding(self) -> Decimal:
        return self.claimed - self.received

    @property
    def received_ahead(self) -> Decimal:
        """Money received beyond what was claimed (an advance), else zero."""
        return max(self.received - self.claimed, ZERO)


@dataclass
class PartnerLine:
    """One development partner: its cash costs in the ledger, its hours and their value."""

    partner: str
    role: str
    cash_costs: Decimal
    hours_period: int
    hours_cumulative: int
    value_period: Decimal
    value_cumulative: Decimal
    budgeted_hours_min: int | None
    budgeted_hours_max: int | None


@dataclass
class RateLine:
    """An hourly rate a partner's time is valued at, the hours at it and its basis."""

    partner: str
    pay_group: str
    hourly_rate: Decimal
    basis: str
    hours: int
    amount: Decimal
    market_rate: Decimal | None


@dataclass
class ProjectReport:
    project: Project
    date_from: dt.date
    date_to: dt.date
    costs: list[Row]
    financing: list[Row]
    time_sheets: list[TimeSheetLine]
    esf: EsfStatus
    partners: list[PartnerLine] = field(default_factory=list)
    rates: list[RateLine] = field(default_factory=list)
    requested_from: dt.date | None = None
    requested_to: dt.date | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def total_cost(self) -> Row:
        return _total("total_cost", _("Total eligible cost"), self.costs)

    @property
    def total_financing(self) -> Row:
        return _total("total_financing", _("Total financing"), self.financing)

    @property
    def gap(self) -> Row:
        """Cost no financing covers (negative: financed beyond the cost)."""
        cost, financing = self.total_cost, self.total_financing
        return Row(
            "gap",
            _("Cost not financed (gap)"),
            cost.budget - financing.budget,
            cost.period - financing.period,
            cost.cumulative - financing.cumulative,
        )

    @property
    def in_kind(self) -> Decimal:
        rows = {r.key: r for r in self.financing}
        return sum((rows[str(k)].cumulative for k in IN_KIND), ZERO)

    @property
    def public_support(self) -> Decimal:
        """Public support including in-kind, cumulative."""
        rows = {r.key: r for r in self.financing}
        return sum((rows[str(k)].cumulative for k in PUBLIC_SUPPORT), ZERO)

    @property
    def eligible_excluding_in_kind(self) -> Decimal:
        return self.total_cost.cumulative - self.in_kind

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
    in_range = Q(voucher__date__range=(start, end))
    if end >= project.end:
        # A cost corrected after the project ended (the final audit disallows it, the years
        # are closed) has no later period to fall in: its reversal counts with the original.
        in_range |= Q(voucher__date__gt=end, voucher__reverses__date__range=(start, end))
    rows = (
        Posting.objects.filter(
            in_range,
            project__dimension__number=Dimension.PROJECT,
            project__code=project.code,
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


def in_kind_kinds(project: Project) -> dict[int, str]:
    return {
        source.partner_id: source.kind
        for source in project.funding.filter(kind__in=IN_KIND, partner__isnull=False)
        if source.partner_id is not None
    }


def time_sheets(project: Project, start: dt.date, end: dt.date) -> list[TimeSheetEntry]:
    return list(
        TimeSheetEntry.objects.filter(
            project=project, month__gte=start.replace(day=1), month__lte=end
        ).select_related("partner")
    )


def _in_kind(project: Project, start: dt.date, end: dt.date) -> dict[str, Decimal]:
    kinds = in_kind_kinds(project)
    result: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in time_sheets(project, start, end):
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
    project: Project, eligible: Decimal, ledger: dict[str, Decimal], in_kind: dict[str, Decimal]
) -> dict[str, Decimal]:
    financing = {str(k): ZERO for k in FundingKind}
    financing[FundingKind.ESF] = quantize(eligible * project.esf_rate)
    financing[FundingKind.PUBLIC_CASH] = -ledger.get(FundingKind.PUBLIC_CASH, ZERO)
    financing[FundingKind.PRIVATE_CASH] = -ledger.get(FundingKind.PRIVATE_CASH, ZERO)
    financing[FundingKind.OWN_CASH] = -ledger.get(FundingKind.OWN_CASH, ZERO)
    for kind in IN_KIND:
        financing[kind] = in_kind.get(kind, ZERO)
    return financing


def _figures(project: Project, start: dt.date, end: dt.date) -> tuple:
    ledger = _ledger(project, start, end)
    in_kind = _in_kind(project, start, end)
    costs = _costs(project, ledger, in_kind)
    eligible = sum(costs.values(), ZERO)
    return costs, _financing(project, eligible, ledger, in_kind)


def eligible_cost(project: Project, up_to: dt.date) -> Decimal:
    """The eligible cost from the project's start to ``up_to`` (in-kind included)."""
    costs, _financing_rows = _figures(project, project.start, up_to)
    return sum(costs.values(), ZERO)


def clip_period(project: Project, date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date]:
    """The report period within the project's dates; refused when it lies wholly outside."""
    if date_from > date_to:
        raise ValidationFailed(_("The start date is after the end date."))
    if date_to < project.start or date_from > project.end:
        raise ValidationFailed(
            _(
                "The report period %(f)s - %(t)s lies outside the project's period "
                "%(s)s - %(e)s; nothing in it can be reported."
            )
            % {"f": date_from, "t": date_to, "s": project.start, "e": project.end}
        )
    return max(date_from, project.start), min(date_to, project.end)


def build_report(project: Project, date_from: dt.date, date_to: dt.date) -> ProjectReport:
    from cofinancing.report_checks import validate

    start, end = clip_period(project, date_from, date_to)
    sources = list(project.funding.select_related("partner"))
    period_costs, period_fin = _figures(project, start, end)
    cum_costs, cum_fin = _figures(project, project.start, end)
    above_decision = _cap_esf_at_decision(project, start, period_fin, cum_fin)
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
            esf_share=quantize(cum_costs[str(c)] * project.esf_rate),
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
            share_percent=(cum_fin[str(k)] / total_financing_cum * HUNDRED).quantize(
                Decimal("0.01")
            )
            if total_financing_cum
            else None,
        )
        for k in FundingKind
    ]
    # claims and money for the project's last period come after its end: read them to the
    # end asked for, not the end the period is clipped to
    books = esf_ledger(project, date_to)
    claims = _claims(project, date_to)
    entries = time_sheets(project, project.start, end)
    report = ProjectReport(
        project=project,
        date_from=start,
        date_to=end,
        requested_from=date_from,
        requested_to=date_to,
        costs=cost_rows,
        financing=financing_rows,
        time_sheets=_appendix([e for e in entries if e.month >= start.replace(day=1)]),
        esf=EsfStatus(
            entitled=cum_fin[FundingKind.ESF],
            claimed=sum((claim.amount for claim in claims), ZERO),
            received=books.received,
            booked=books.recognised,
            above_decision=above_decision,
            claims=claims,
        ),
        partners=_partners(project, sources, entries, start, cum_costs, cum_fin),
        rates=_rates(project, sources, entries),
    )
    report.findings = validate(report, sources, entries)
    return report


def _cap_esf_at_decision(
    project: Project, start: dt.date, period_fin: dict, cum_fin: dict
) -> Decimal | None:
    """ESF financing is never more than the amount decided: cap the cumulative figure and the
    period's (what the cap leaves after the periods before). Returns the uncapped figure when
    the cap applies."""
    from cofinancing.esf_income import esf_ceiling

    ceiling = esf_ceiling(project)
    at_rate = cum_fin[FundingKind.ESF]
    if ceiling is None or at_rate <= ceiling:
        return None
    before = ZERO
    if start > project.start:
        before = min(
            quantize(eligible_cost(project, start - dt.timedelta(days=1)) * project.esf_rate),
            ceiling,
        )
    cum_fin[FundingKind.ESF] = ceiling
    period_fin[FundingKind.ESF] = ceiling - before
    return at_rate


def _claims(project: Project, end: dt.date) -> list[ClaimLine]:
    from cofinancing.esf_claims import claims_submitted

    return [
        ClaimLine(
            number=claim.number,
            period_from=claim.period_from,
            period_to=claim.period_to,
            submitted_on=claim.submitted_on,
            amount=claim.amount.amount,
            reference=claim.reference,
        )
        for claim in claims_submitted(project, end)
    ]


def _appendix(entries: list[TimeSheetEntry]) -> list[TimeSheetLine]:
    ordered = sorted(entries, key=lambda e: (e.month, e.partner.organisation_name, e.person_ref))
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
        for e in ordered
    ]


def _in_kind_source(sources: list[FundingSource], partner_id: int) -> FundingSource | None:
    return next((s for s in sources if s.kind in IN_KIND and s.partner_id == partner_id), None)


def _partners(
    project: Project,
    sources: list[FundingSource],
    entries: list[TimeSheetEntry],
    start: dt.date,
    cum_costs: dict[str, Decimal],
    cum_fin: dict[str, Decimal],
) -> list[PartnerLine]:
    """A line per partner; the ledger's cash costs are the owner's (partners give time)."""
    lines = []
    cash_costs = sum(cum_costs.values(), ZERO) - sum((cum_fin[str(k)] for k in IN_KIND), ZERO)
    for partner in project.partners.all():
        own = [e for e in entries if e.partner_id == partner.pk]
        in_period = [e for e in own if e.month >= start.replace(day=1)]
        source = _in_kind_source(sources, partner.pk)
        lines.append(
            PartnerLine(
                partner=partner.organisation_name,
                role=partner.role,
                cash_costs=cash_costs if partner.role == "owner" else ZERO,
                hours_period=sum(e.hours for e in in_period),
                hours_cumulative=sum(e.hours for e in own),
                value_period=sum((e.amount for e in in_period), ZERO),
                value_cumulative=sum((e.amount for e in own), ZERO),
                budgeted_hours_min=source.budgeted_hours_min if source else None,
                budgeted_hours_max=source.budgeted_hours_max if source else None,
            )
        )
    return lines


def _rates(
    project: Project, sources: list[FundingSource], entries: list[TimeSheetEntry]
) -> list[RateLine]:
    grouped: dict[tuple[str, str, Decimal, int], list[TimeSheetEntry]] = defaultdict(list)
    for e in entries:
        grouped[
            (e.partner.organisation_name, e.pay_group, e.hourly_rate.amount, e.partner_id)
        ].append(e)
    market = project.market_hourly_rate.amount if project.market_hourly_rate else None
    lines = []
    for (partner, pay_group, rate, partner_id), group in sorted(grouped.items()):
        source = _in_kind_source(sources, partner_id)
        basis = (
            source.get_hourly_rate_basis_display() if source and source.hourly_rate_basis else ""
        )
        lines.append(
            RateLine(
                partner=partner,
                pay_group=pay_group,
                hourly_rate=rate,
                basis=str(basis),
                hours=sum(e.hours for e in group),
                amount=sum((e.amount for e in group), ZERO),
                market_rate=market,
            )
        )
    return lines
