"""Signing in as each role (with the second factor for staff) and a case in a known state."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounting.models import ExportJob, Period
from accounting.payouts import batches
from audit.models import AuditEvent
from tests.factories import OmbudFactory
from tests.fixtures import World
from tests.signin import sign_in

ROLES = (
    "ombud",
    "other_ombud",
    "officer",
    "decision_maker",
    "treasurer",
    "auditor",
    "administrator",
)


@pytest.fixture
def users(world: World) -> dict[str, Any]:
    return {
        "ombud": world.ombud.user,
        "other_ombud": OmbudFactory().user,
        "officer": world.officer,
        "decision_maker": world.decider,
        "treasurer": world.treasurer,
        "auditor": world.auditor,
        "administrator": world.admin,
    }


@pytest.fixture
def as_user(client: Client) -> Any:
    def login(user: User) -> Client:
        client.logout()
        return sign_in(client, user)

    return login


@pytest.fixture
def case(world: World, tmp_path: Any) -> dict[str, Any]:
    """URL arguments for the pages of tests.web.test_permissions.PAGES.

    An approved case of world.ombud with a batch of its payment order, and an export.
    """
    app = world.to_approved(world.new_application("1500"))
    app = world.run(app, "schedule_payout", world.treasurer)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    item = app.items.get()
    export_file = tmp_path / "export.csv"
    export_file.write_text("voucher\n", encoding="utf-8")
    job = ExportJob.objects.create(
        kind="ledger_csv",
        created_by=world.treasurer,
        status="done",
        file_path=str(export_file),
    )
    return page_arguments(app, item, batch, job)


def page_arguments(app: Any, item: Any, batch: Any, job: Any) -> dict[str, dict[str, Any]]:
    """The URL arguments each kind of page in PAGES takes, for these objects."""
    return {
        "job": {"pk": job.pk},
        "": {},
        "app": {"reference": app.reference},
        "ref": {"reference": app.reference},
        "step": {"reference": app.reference, "name": "withdraw"},
        "item": {"reference": app.reference, "item_id": item.pk},
        "batch": {"pk": batch.pk},
        "batch_action": {"pk": batch.pk, "action": "approve"},
        "year_end_step": {"step": "prepare"},
        "cofinancing_action": {"action": "accrue"},
        "payee": {"pk": batch.orders.values_list("payee_id", flat=True)[0]},
        "event": {"sequence": AuditEvent.objects.values_list("sequence", flat=True).first()},
        "period_close_step": {
            "pk": Period.objects.order_by("start").values_list("pk", flat=True)[0],
            "step": "propose",
        },
    }
