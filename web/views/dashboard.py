"""The dashboard: budget use, applications per state, median days per step."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.roles import Role, roles_of
from fund.models import Fund
from web.access import HANDLERS, STAFF_ROLES, page
from web.dashboard import dashboard_data
from web.selectors import funds_of


@page(*STAFF_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    roles = roles_of(request.user)
    everything = roles & {Role.TREASURER, Role.AUDITOR, Role.ADMINISTRATOR}
    funds = Fund.objects.order_by("name") if everything else funds_of(request.user)
    # The bars link to the worklist only where it lists the same funds the bars count.
    link_worklist = bool(roles & set(HANDLERS)) and not everything
    return render(request, "web/dashboard.html", dashboard_data(funds, link_worklist=link_worklist))
