"""Every page that shows a person's values logs the look, for every role that can open it.

Pages are not listed by hand: each GET page in the permission table is opened by each role
it is open to, and if a person's value appears in the response, a ``personal_data.viewed``
event must have been written by that request. A new page that shows personal data without
going through ``fund.privacy.read_personal_data`` fails here.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from accounting.models import ExportJob
from accounting.payouts import batches
from audit.models import AuditEvent
from tests.fixtures import World
from tests.web.conftest import ROLES, page_arguments, sign_in
from tests.web.test_permissions import OK, PAGES

NAME = "Quirina Zappelberg"
DESCRIPTION = "Vinterkängor storlek 31 åt dottern"


def _case(world: World) -> dict[str, Any]:
    app = world.new_application("1500", name=NAME)
    item = app.items.get()
    item.description = DESCRIPTION
    item.save()
    app = world.to_approved(app)
    app = world.run(app, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    job = ExportJob.objects.create(kind="ledger_csv", created_by=world.treasurer)
    return page_arguments(app, item, batch, job)


def _views() -> int:
    return AuditEvent.objects.filter(action="personal_data.viewed").count()


def test_every_page_showing_personal_data_logs_the_access(world: World, users: dict[str, Any]):
    case = _case(world)
    unlogged = []
    shown = []
    for name, (method, args, rules) in PAGES.items():
        if method != "get":
            continue
        for role in ROLES:
            if rules[role] != OK:
                continue
            client = sign_in(Client(), users[role])
            before = _views()
            response = client.get(reverse(f"web:{name}", kwargs=case[args]), follow=True)
            body = response.content.decode("utf-8", errors="replace")
            if NAME in body or DESCRIPTION in body:
                shown.append((name, role))
                if _views() == before:
                    unlogged.append((name, role))
    assert shown, "the check must see personal data on some page, or it proves nothing"
    assert unlogged == []
