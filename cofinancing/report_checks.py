"""The checks of the project report (``Finding``; errors refuse a final report).

* ``period_clipped`` (warning): the asked period reached outside the project's dates;
* ``programme_period_missing`` / ``cost_model_not_in_programme_period`` /
  ``flat_rate_above_programme_maximum``: the cost model follows the project's programme
  period (``cofinancing.programmes``);
* ``budget_unbalanced``: decided financing ≠ budgeted cost;
* ``financing_not_cost``: the gap - financing booked ≠ eligible cost (own cash is what the
  ledger holds, never a balancing figure);
* ``esf_rate_exceeded``: decided ESF amount or rate above the project's rate, or ESF
  received above the entitlement;
* ``esf_claimed_above_entitlement``: the claims submitted ask for more than the eligible
  costs entitle the project to (after a cost was corrected downwards);
* ``esf_above_decision``: the rate's share of the eligible cost is above the ESF amount
  decided; the ESF row (and the income booked) stops at the decided amount;
* ``esf_claim_behind`` (warning): the eligible costs of the claim periods already ended (up
  to the latest claimed period's end or the last 31 December, whichever is later) entitle
  the project to more than the claims submitted by the report's end;
* ``public_support_above_cost_excluding_in_kind``: public support including in-kind above
  the eligible cost excluding in-kind, naming the programme period's rule;
* ``in_kind_booked_as_cost``, ``owner_in_kind``, ``in_kind_without_source``: time sheets;
* ``market_rate_missing`` / ``in_kind_above_market_value``: in-kind time needs the project's
  market rate, and no hour valued above it;
* ``in_kind_hours_above_budget`` / ``in_kind_hours_below_budget`` (warnings): a partner's
  hours against its decided hours (below only once the report reaches the project's end).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from accounting.models import Dimension, Voucher
from cofinancing.models import CostModel, FundingKind, FundingSource, PartnerRole, TimeSheetEntry
from cofinancing.programmes import RULES
from cofinancing.report import ZERO, Finding, ProjectReport, in_kind_kinds
from fund.money import quantize


def validate(
    report: ProjectReport, sources: list[FundingSource], entries: list[TimeSheetEntry]
) -> list[Finding]:
    return [
        *_period(report),
        *_programme(report),
        *_balance(report),
        *_esf(report, sources),
        *_claims_behind(report),
        *_public_support_cap(report),
        *_time_sheets(report, entries),
        *_hours_budget(report),
    ]


def _period(report: ProjectReport) -> list[Finding]:
    asked = (report.requested_from, report.requested_to)
    if asked == (report.date_from, report.date_to) or None in asked:
        return []
    project = report.project
    return [
        Finding(
            "period_clipped",
            "warning",
            _(
                "The report period %(f)s - %(t)s reaches outside the project's period "
                "%(s)s - %(e)s; it is reported for %(cf)s - %(ct)s."
            )
            % {
                "f": report.requested_from,
                "t": report.requested_to,
                "s": project.start,
                "e": project.end,
                "cf": report.date_from,
                "ct": report.date_to,
            },
        )
    ]


def _programme(report: ProjectReport) -> list[Finding]:
    project = report.project
    rules = RULES.get(project.programme_period)
    if rules is None:
        return [
            Finding(
                "programme_period_missing",
                "error",
                _(
                    "The project's programme period is not set; the report cannot tell which "
                    "cost models and rules apply."
                ),
            )
        ]
    findings = []
    if project.cost_model not in rules.cost_models:
        findings.append(
            Finding(
                "cost_model_not_in_programme_period",
                "error",
                _("The cost model “%(m)s” is not allowed in the programme period %(p)s.")
                % {"m": project.get_cost_model_display(), "p": project.programme_period},
            )
        )
    if (
        project.cost_model == CostModel.FLAT_RATE
        and rules.max_flat_rate_percent is not None
        and (project.flat_rate_percent or ZERO) > rules.max_flat_rate_percent
    ):
        findings.append(
            Finding(
                "flat_rate_above_programme_maximum",
                "error",
                _("The flat rate %(r)s %% is above the %(m)s %% the programme period %(p)s allows.")
                % {
                    "r": project.flat_rate_percent,
                    "m": rules.max_flat_rate_percent,
                    "p": project.programme_period,
                },
            )
        )
    return findings


def _balance(report: ProjectReport) -> list[Finding]:
    findings = []
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
    gap = report.gap.cumulative
    if gap < 0:
        findings.append(
            Finding(
                "financing_not_cost",
                "error",
                _("The financing exceeds the eligible cost by %(x)s.") % {"x": -gap},
            )
        )
    elif gap > 0:
        findings.append(
            Finding(
                "financing_not_cost",
                "error",
                _(
                    "The financing falls short of the eligible cost by %(x)s: no financing in "
                    "the ledger covers it (the owner's own cash is what is booked as such)."
                )
                % {"x": gap},
            )
        )
    return findings


def _esf(report: ProjectReport, sources: list[FundingSource]) -> list[Finding]:
    project = report.project
    findings = []
    allowed = quantize(report.total_cost.budget * project.esf_rate)
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
    if report.esf.above_decision is not None:
        findings.append(
            Finding(
                "esf_above_decision",
                "warning",
                _(
                    "The eligible costs would entitle the project to %(r)s in ESF support at the "
                    "decided rate, more than the %(d)s decided; only %(d)s is counted as "
                    "financing and booked as income."
                )
                % {"r": report.esf.above_decision, "d": report.esf.entitled},
            )
        )
    if report.esf.claimed > report.esf.entitled:
        findings.append(
            Finding(
                "esf_claimed_above_entitlement",
                "error",
                _(
                    "ESF claimed (%(c)s) is above what the eligible costs entitle the project to "
                    "(%(e)s): %(over)s too much, to be corrected in the next claim."
                )
                % {
                    "c": report.esf.claimed,
                    "e": report.esf.entitled,
                    "over": report.esf.claimed - report.esf.entitled,
                },
            )
        )
    if report.esf.received > report.esf.entitled:
        findings.append(
            Finding(
                "esf_rate_exceeded",
                "error",
                _(
                    "ESF received (%(r)s) is above the decided rate's share of the eligible "
                    "cost (%(s)s)."
                )
                % {"r": report.esf.received, "s": report.esf.entitled},
            )
        )
    return findings


def claims_due_up_to(report: ProjectReport) -> dt.date | None:
    """The end of the claim periods that have ended by the report's end: the latest claimed
    period's end or the last year end (31 December) on or before the report's end, whichever
    is later - a project claims at least once a year - clipped to the project's end; None
    before a whole period has ended."""
    project, end = report.project, report.date_to
    year_end = dt.date(end.year, 12, 31) if end.month == 12 and end.day == 31 else None
    year_end = year_end or dt.date(end.year - 1, 12, 31)
    claimed = [c.period_to for c in report.esf.claims]
    due = min(max([year_end, *claimed]), project.end)
    return due if due >= project.start else None


def _claims_behind(report: ProjectReport) -> list[Finding]:
    from cofinancing.esf_income import esf_entitlement

    due = claims_due_up_to(report)
    if due is None:
        return []
    entitled = (
        report.esf.entitled if due == report.date_to else esf_entitlement(report.project, due)
    )
    if entitled <= report.esf.claimed:
        return []
    return [
        Finding(
            "esf_claim_behind",
            "warning",
            _(
                "The eligible costs up to %(d)s entitle the project to %(e)s in ESF support; "
                "%(c)s is claimed by %(t)s: %(x)s is still to be claimed."
            )
            % {
                "d": due.isoformat(),
                "e": entitled,
                "c": report.esf.claimed,
                "t": report.date_to.isoformat(),
                "x": entitled - report.esf.claimed,
            },
        )
    ]


def _public_support_cap(report: ProjectReport) -> list[Finding]:
    rules = RULES.get(report.project.programme_period)
    if rules is None or report.public_support <= report.eligible_excluding_in_kind:
        return []
    return [
        Finding(
            "public_support_above_cost_excluding_in_kind",
            "error",
            _(
                "%(rule)s (%(ref)s, programme period %(p)s): public support including in-kind "
                "is %(s)s, the eligible cost excluding in-kind %(c)s - %(x)s too much."
            )
            % {
                "rule": rules.cap_text,
                "ref": rules.in_kind_rule,
                "p": report.project.programme_period,
                "s": report.public_support,
                "c": report.eligible_excluding_in_kind,
                "x": report.public_support - report.eligible_excluding_in_kind,
            },
        )
    ]


def _time_sheets(report: ProjectReport, entries: list[TimeSheetEntry]) -> list[Finding]:
    project = report.project
    findings: list[Finding] = []
    in_kind_partners = set(in_kind_kinds(project))
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
    findings += _market_value(report, entries)
    findings += _booked_twice(report, entries)
    return findings


def _market_value(report: ProjectReport, entries: list[TimeSheetEntry]) -> list[Finding]:
    if not entries:
        return []
    ceiling = report.project.market_hourly_rate
    if ceiling is None:
        return [
            Finding(
                "market_rate_missing",
                "error",
                _(
                    "In-kind time is reported but the project has no market rate per hour: "
                    "the value of the hours cannot be checked against the market value."
                ),
            )
        ]
    above = sorted({e.attestation_ref for e in entries if e.hourly_rate.amount > ceiling.amount})
    if not above:
        return []
    return [
        Finding(
            "in_kind_above_market_value",
            "error",
            _(
                "In-kind hours valued above the market rate of %(r)s per hour "
                "(attestations %(refs)s)."
            )
            % {"r": ceiling.amount, "refs": ", ".join(above)},
        )
    ]


def _booked_twice(report: ProjectReport, entries: list[TimeSheetEntry]) -> list[Finding]:
    refs = {e.attestation_ref for e in entries}
    if not refs:
        return []
    staff_texts = (
        Voucher.objects.filter(
            postings__project__dimension__number=Dimension.PROJECT,
            postings__project__code=report.project.code,
            postings__account__number__gte="7000",
            postings__account__number__lte="7699",
            date__lte=report.date_to,
        )
        .distinct()
        .values_list("text", flat=True)
    )
    doubled = sorted({ref for text in staff_texts for ref in refs if ref in text})
    if not doubled:
        return []
    return [
        Finding(
            "in_kind_booked_as_cost",
            "error",
            _(
                "Time reported in kind is also booked as a staff cost in the ledger "
                "(attestations %(refs)s): the same hours would be counted twice."
            )
            % {"refs": ", ".join(doubled)},
        )
    ]


def _hours_budget(report: ProjectReport) -> list[Finding]:
    findings = []
    at_end = report.date_to >= report.project.end
    for line in report.partners:
        top, bottom = line.budgeted_hours_max, line.budgeted_hours_min
        if top is not None and line.hours_cumulative > top:
            findings.append(
                Finding(
                    "in_kind_hours_above_budget",
                    "warning",
                    _("%(p)s has given %(h)s hours in kind; the decision budgets at most %(m)s.")
                    % {"p": line.partner, "h": line.hours_cumulative, "m": top},
                )
            )
        if at_end and bottom is not None and line.hours_cumulative < bottom:
            findings.append(
                Finding(
                    "in_kind_hours_below_budget",
                    "warning",
                    _(
                        "%(p)s has given %(h)s hours in kind by the project's end; the decision "
                        "budgets at least %(m)s."
                    )
                    % {"p": line.partner, "h": line.hours_cumulative, "m": bottom},
                )
            )
    return findings
