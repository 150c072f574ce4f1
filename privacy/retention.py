"""How long a person's data is held: the longest hold of their cases and vouchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from fund.key_management import rekey_after_leak as rekey_after_leak
from fund.key_management import rotate_master_keys as rotate_master_keys
from fund.models import Application, Beneficiary
from fund.privacy import OPEN_STATES


@dataclass(frozen=True)
class Retention:
    beneficiary: str
    hold_until: date | None
    due: bool
    reason: str


def retention_of(beneficiary: Beneficiary, today: date | None = None) -> Retention:
    """Until when the person's data must be kept, and why.

    Bookkeeping law keeps vouchers, not identities: with a voucher on any of the person's cases
    the hold runs to the end of the seventh year after the calendar year in which that
    voucher's fiscal year ended (bokföringslagen 7 kap. 2 §); without one, only until the
    last case is closed and the time to ask for omprövning has run.
    """
    today = today or timezone.localdate()
    applications = list(beneficiary.applications.select_related("fund"))
    open_refs = [a.reference for a in applications if a.state in OPEN_STATES]
    if open_refs:
        return Retention(
            beneficiary.reference, None, False, _("Open cases: %s") % ", ".join(open_refs)
        )
    if not applications:
        return Retention(beneficiary.reference, None, True, _("No cases."))
    holds = [_reconsideration_hold(applications)]
    voucher_hold = _voucher_hold(applications)
    if voucher_hold is not None:
        holds.append(voucher_hold)
    hold_until, reason = max(holds, key=lambda hold: hold[0])
    if today > hold_until:
        return Retention(beneficiary.reference, hold_until, True, _("The legal hold has ended."))
    return Retention(beneficiary.reference, hold_until, False, reason)


def _reconsideration_hold(applications: list[Application]) -> tuple[date, str]:
    """The last day omprövning can be asked for, counted from each case's last state change."""
    days = settings.RECONSIDERATION_WINDOW_DAYS

    def closed_on(app: Application) -> date:
        return timezone.localtime(app.state_changed_at or app.updated_at or app.created_at).date()

    last = max(applications, key=closed_on)
    until = closed_on(last) + timedelta(days=days)
    return until, _(
        "Omprövning of %(case)s can be asked until %(date)s (%(days)s days from its last step)."
    ) % {"case": last.reference, "date": until.isoformat(), "days": days}


def _voucher_hold(applications: list[Application]) -> tuple[date, str] | None:
    """The hold of the person's last voucher, named by series and number; None without one."""
    latest: tuple[date, Any] | None = None
    for voucher, app in _vouchers_of(applications):
        until = date(voucher.fiscal_year.end.year + app.fund.retention_years, 12, 31)
        if latest is None or (until, voucher.date) > (latest[0], latest[1].date):
            latest = (until, voucher)
    if latest is None:
        return None
    until, voucher = latest
    return until, _(
        "Accounting records (voucher %(voucher)s, fiscal year %(year)s) are kept until %(date)s."
    ) % {
        "voucher": f"{voucher.series}{voucher.number}",
        "year": str(voucher.fiscal_year),
        "date": until.isoformat(),
    }


def _vouchers_of(applications: list[Application]) -> list[tuple[Any, Application]]:
    """Every voucher that reaches one of these cases, with its case.

    Payouts and bank exceptions (booked and resolved) point at their vouchers; reversals
    point at what they reverse; a manual voucher names the case in its text.

    A decided grant's own vouchers (series D: cost and liability when decided, their reversal
    when released) do not hold the person: they move no money, and they stand on the case
    reference and the decision without an identity. A grant that was paid holds the person
    through its payout voucher, which is as late as any voucher of the decision.
    """
    from accounting.models import BankException, PaymentOrder, Voucher, VoucherSeries

    case_of: dict[int, int] = {}
    for voucher_id, app_id in PaymentOrder.objects.filter(
        application__in=applications, voucher__isnull=False
    ).values_list("voucher_id", "application_id"):
        case_of[voucher_id] = app_id
    for booked, resolved, app_id in BankException.objects.filter(
        order__application__in=applications
    ).values_list("voucher_id", "resolution_voucher_id", "order__application_id"):
        case_of[booked] = app_id
        if resolved is not None:
            case_of[resolved] = app_id
    by_reference = {app.reference: app.pk for app in applications}
    naming = models.Q()
    for reference in by_reference:
        naming |= models.Q(text__regex=rf"(^|[^A-Za-z0-9-]){re.escape(reference)}([^0-9]|$)")
    named = Voucher.objects.filter(naming).exclude(series=VoucherSeries.GRANTS)
    for voucher_id, text in named.values_list("pk", "text"):
        case_of.setdefault(voucher_id, next(pk for ref, pk in by_reference.items() if ref in text))
    frontier = set(case_of)
    while frontier:
        reversals = Voucher.objects.filter(reverses_id__in=frontier).exclude(pk__in=list(case_of))
        frontier = set()
        for voucher_id, reversed_id in reversals.values_list("pk", "reverses_id"):
            case_of[voucher_id] = case_of[reversed_id]
            frontier.add(voucher_id)
    cases = {app.pk: app for app in applications}
    vouchers = Voucher.objects.filter(pk__in=list(case_of)).select_related("fiscal_year")
    return [(voucher, cases[case_of[voucher.pk]]) for voucher in vouchers]


def retention_report(today: date | None = None) -> list[Retention]:
    people = Beneficiary.objects.filter(erased_at__isnull=True).prefetch_related(
        "applications__fund"
    )
    return [retention_of(person, today) for person in people.order_by("reference")]
