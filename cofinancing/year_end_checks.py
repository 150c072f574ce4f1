"""What co-financing adds to closing a fiscal year (registered with :mod:`accounting.year_end`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounting.models import FiscalYear
from cofinancing.esf_income import esf_entitlement
from cofinancing.esf_ledger import esf_ledger
from cofinancing.models import Project


def co_financing_not_accrued(year: FiscalYear) -> list[str]:
    """ESF income the year's eligible costs earned must be booked before the year locks.

    A locked year cannot take the accrual afterwards, and the income would land in a later
    year: the year's result and the co-financing receivable would both be wrong.
    """
    problems = []
    for project in Project.objects.filter(start__lte=year.end).order_by("code"):
        earned = esf_entitlement(project, year.end)
        booked = esf_ledger(project, up_to=year.end).recognised
        if earned != booked:
            problems.append(
                _(
                    "Project %(project)s has earned %(earned)s in ESF support up to %(end)s, "
                    "but %(booked)s is booked as income: accrue it (co-financing income) "
                    "before closing the year."
                )
                % {
                    "project": project.code,
                    "earned": earned,
                    "end": year.end.isoformat(),
                    "booked": booked,
                }
            )
    return problems
