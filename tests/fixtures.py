"""A small world of users, a fund and an ombud, and helpers to walk a case."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from accounting import db_guards
from accounting.ledger import record_income
from accounting.models import Payee, PaymentBatch
from accounting.payees import approve_payee, create_payee
from accounting.payouts import batches
from fund.models import Application, Fund, Ombud
from tests.factories import FundFactory, OmbudFactory, UserFactory
from workflows import services, step_inputs
from workflows.models import Obligation
from workflows.services import NeedInput


@dataclass
class World:
    fund: Fund
    ombud: Ombud
    officer: User
    officer2: User
    decider: User
    decider2: User
    treasurer: User
    treasurer2: User
    auditor: User
    admin: User

    def new_application(self, *amounts: str, category: str = "glasses", **kw: Any) -> Application:
        person = services.register_beneficiary(
            actor=self.ombud.user,
            name=kw.pop("name", "Testa Testsson"),
            region=kw.pop("region", "AB"),
        )
        items = [
            NeedInput(category=category, amount=a, description="behov")
            for a in amounts or ("1500",)
        ]
        return services.create_application(
            actor=self.ombud.user, fund=kw.pop("fund", self.fund), beneficiary=person, items=items
        )

    def run(self, app: Application, name: str, actor: User, **data: Any) -> Application:
        return services.transition(app, actor=actor, step=step_inputs.parse(name, data))

    def to_statutory_check(self, app: Application) -> Application:
        app = self.run(app, "submit", self.ombud.user)
        app = self.run(app, "request_attestation", self.officer)
        app = self.run(app, "attest", self.ombud.user, method="portal", need_confirmed=True)
        return self.run(app, "start_statutory_check", self.officer)

    def assess_all(
        self, app: Application, outcome: str = Obligation.NOT_OBLIGED, **kw: Any
    ) -> None:
        for item in app.items.all():
            services.record_statutory_assessment(item, actor=self.officer, outcome=outcome, **kw)

    def to_decision(self, app: Application) -> Application:
        app = self.to_statutory_check(app)
        self.assess_all(app)
        return self.run(app, "clear", self.officer)

    def to_approved(self, app: Application) -> Application:
        return self.run(self.to_decision(app), "approve", self.decider)

    def to_paid(self, app: Application) -> Application:
        app = self.run(self.to_approved(app), "schedule_payout", self.treasurer)
        self.send_payouts(app)
        return self.run(app, "confirm_paid", self.treasurer)

    def approved_batch(self, *amounts: str) -> tuple[Application, PaymentBatch]:
        """A case scheduled, batched by the first treasurer and approved by the second."""
        app = self.run(
            self.to_approved(self.new_application(*amounts)), "schedule_payout", self.treasurer
        )
        batch = batches.create_batch(actor=self.treasurer, applications=[app])
        return app, batches.approve_batch(batch, actor=self.treasurer2)

    def exported_batch(self, *amounts: str) -> tuple[Application, PaymentBatch]:
        """:meth:`approved_batch`, its pain.001 exported by the first treasurer."""
        app, batch = self.approved_batch(*amounts)
        batches.export_batch(batch, actor=self.treasurer)
        batch.refresh_from_db()
        return app, batch

    def send_payouts(self, *apps: Application) -> PaymentBatch:
        """Batch (treasurer), approve (treasurer2), export and send the cases' orders."""
        batch = batches.create_batch(actor=self.treasurer, applications=apps)
        batches.approve_batch(batch, actor=self.treasurer2)
        batches.export_batch(batch, actor=self.treasurer)
        return batches.mark_sent(batch, actor=self.treasurer)


def approved_payee(registrar: User, approver: User, **details: Any) -> Payee:
    """A payee registered by one treasurer and approved by another, ready to be paid."""
    return approve_payee(create_payee(actor=registrar, **details), actor=approver)


@pytest.fixture
def world(db: None, request: pytest.FixtureRequest) -> World:
    if not connection.in_atomic_block:
        # A transactional test: the append-only ledger must be emptied before Django's flush.
        request.addfinalizer(lambda: db_guards.purge_ledger(connection))
    return make_world()


def make_world() -> World:
    """The users, fund, ombud and income every test world has (also for scripted scenarios)."""
    fund = FundFactory(
        code="allmant",
        name="Allmänt stöd",
        max_per_item=Decimal("20000"),
        max_per_application=Decimal("50000"),
        max_per_person_year=Decimal("60000"),
        two_signature_threshold=Decimal("10000"),
    )
    officer = UserFactory(roles=["officer"])
    officer2 = UserFactory(roles=["officer"])
    decider = UserFactory(roles=["decision_maker"])
    decider2 = UserFactory(roles=["decision_maker"])
    fund.handlers.add(officer, officer2, decider, decider2)
    ombud = OmbudFactory()
    treasurer = UserFactory(roles=["treasurer"])
    treasurer2 = UserFactory(roles=["treasurer"])
    # The fund has money, and the ombud's organisation a payee (its default for payouts),
    # registered by one treasurer and approved by the other.
    record_income(fund, "1000000", kind="donation", actor=treasurer, reference="WORLD-1")
    approved_payee(
        treasurer,
        treasurer2,
        kind="organisation",
        name="Socialtjänsten",
        method="bankgiro",
        account="5678-1230",
        organisation=ombud.organisation,
    )
    return World(
        fund=fund,
        ombud=ombud,
        officer=officer,
        officer2=officer2,
        decider=decider,
        decider2=decider2,
        treasurer=treasurer,
        treasurer2=treasurer2,
        auditor=UserFactory(roles=["auditor"]),
        admin=UserFactory(roles=["administrator"]),
    )
