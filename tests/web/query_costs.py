"""What the query-count tests share: a short case and a long one in the same state (to show
a page's cost does not grow), and the statements PostgreSQL adds to an audit append.

The long case has eight need items, four rounds of komplettering (so a long timeline of
audit events and completion requests), two signatures and, once scheduled, eight payment
orders; the short one has a single item of the same total, so both need two signatures.
"""

from __future__ import annotations

from django.db import connection

from fund.models import Application
from tests.fixtures import World
from workflows import services
from workflows.models import Obligation

#: The states the case page and the API are compared in.
STAGES = ("statutory_check", "awaiting_signature", "payout_scheduled")


def walk_case(world: World, amounts: tuple[str, ...], rounds: int, stage: str) -> Application:
    """A case of ``amounts`` walked to ``stage`` with ``rounds`` komplettering rounds."""
    app = world.run(world.new_application(*amounts), "submit", world.ombud.user)
    for n in range(rounds):
        # Half the rounds before the attestation, half during the statutory check.
        if n == rounds // 2:
            app = _to_statutory_check(world, app)
        app = world.run(app, "request_completion", world.officer, message=f"Bifoga kvitto {n}")
        app = world.run(app, "resubmit", world.ombud.user)
    if app.state != "statutory_check":
        app = _to_statutory_check(world, app)
    items = list(app.items.order_by("position"))
    if stage == "statutory_check":
        for item in items[: (len(items) + 1) // 2]:  # some assessed, some not
            services.record_statutory_assessment(
                item, actor=world.officer, outcome=Obligation.NOT_OBLIGED
            )
        return app
    world.assess_all(app)
    app = world.run(app, "clear", world.officer)
    app = world.run(app, "approve", world.decider)
    if stage == "awaiting_signature":
        return app
    app = world.run(app, "approve", world.decider2)
    return world.run(app, "schedule_payout", world.treasurer)


def _to_statutory_check(world: World, app: Application) -> Application:
    app = world.run(app, "request_attestation", world.officer)
    app = world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    return world.run(app, "start_statutory_check", world.officer)


def short_and_long_case(world: World, stage: str) -> tuple[Application, Application]:
    short = walk_case(world, ("12000",), rounds=0, stage=stage)
    long = walk_case(world, ("1500",) * 8, rounds=4, stage=stage)
    assert short.state == long.state, "both cases show the same sections"
    assert long.items.count() == 8
    return short, long


def audit_lock_statements(appends: int) -> int:
    """The statements ``appends`` audit appends add on PostgreSQL, whose append first takes
    the chain's advisory lock (one statement); on SQLite the transaction already holds it."""
    return appends if connection.vendor == "postgresql" else 0
