"""Issue #13: a model-based test of the whole money path, in sequences of steps.

Random actors (the wrong ones included) create, submit, attest, assess, decide, schedule,
batch, approve, export, send, cancel, withdraw and reconsider cases, give up payouts (issue
#16), register payees, assign officers, revoke an ombud, read personal data and erase people
(issue #14: at any point, and for every person at the end of each example), while a model bank
answers with pain.002 and camt.054 files. A refusal is a normal outcome; any other exception
fails. After every step the invariants below must hold. Each example runs inside a savepoint
that is rolled back at its end, so every example starts from the same world (audit chain,
voucher counters and ledger included: nothing is deleted, the savepoint is simply never
committed).

Sizes come from the environment: ``FUNDFLOW_STATEFUL_EXAMPLES`` and ``FUNDFLOW_STATEFUL_STEPS``
(``make test`` keeps them small; ``make evidence`` runs 1,000 examples of 40 steps).

To add a rule: a method with ``@rule(...)`` (and ``@precondition`` when it needs a case or a
file) that calls the service through ``self.attempt``; add the model's bookkeeping when the
call succeeds. To add an invariant: one ``@holds`` method that states the rule.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connection, transaction
from django.db.models import CharField, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounting import bank_status, chart
from accounting.bank_exceptions import resolve_bank_exception
from accounting.commitments import budget_of
from accounting.ledger import fiscal_year_for, fund_balance
from accounting.models import (
    BankException,
    BankExceptionResolution,
    BatchStatus,
    Commitment,
    CommitmentStatus,
    OrderStatus,
    Payee,
    PaymentBatch,
    PaymentOrder,
    Posting,
    Voucher,
    VoucherSeries,
)
from accounting.payees import approve_payee, create_payee, deactivate_payee
from accounting.payouts import batches
from audit.checkpoint_file import read_held_checkpoints
from audit.checkpoints import auditors_file, create_checkpoint
from audit.models import AuditEvent
from audit.verification import verify_chain
from core.exceptions import (
    ConflictError,
    PermissionDenied,
    TransitionNotAvailable,
    ValidationFailed,
)
from fund.models import (
    Application,
    Beneficiary,
    Fund,
    OmbudStatus,
    ProtectedAccessReason,
    ProtectedIdentityGrant,
)
from fund.privacy import AccessPurpose, read_personal_data
from fund.protected_access import grant_protected_access, revoke_protected_access
from fund.services import set_ombud_status
from fund.states import State
from privacy.erasure import erase_person
from privacy.retention import retention_of
from tests.lifecycle.model import (
    ACTORS,
    BANKGIRO,
    ERASED,
    FUNDS,
    NOT_ON_CASE,
    NOT_PAID,
    PAID,
    PERSONS,
    PROTECTED,
    REVOKED_OMBUD,
    Bank,
    CamtTx,
    Entitlement,
    WorldIds,
    build_world,
    camt054,
    load_users,
    pain002,
)
from workflows import services, step_inputs
from workflows.assignment import assign_officer, reassign_ombud
from workflows.fund_rules import GRANTED_STATES
from workflows.models import Decision, DecisionStatus, Obligation, StatutoryAssessment
from workflows.services import NeedInput
from workflows.services.assessment import AssessmentInput
from workflows.services.send_to_decision import assess_and_clear
from workflows.services.verdicts import ItemVerdict, decide_items

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("ledger")]

EXAMPLES = int(os.environ.get("FUNDFLOW_STATEFUL_EXAMPLES", "30"))
STEPS = int(os.environ.get("FUNDFLOW_STATEFUL_STEPS", "30"))
#: The examples are shared among this many independent runs, so xdist spreads a long run
#: over the cores (each run its own random stream, so no example is wasted on another's).
SHARDS = max(1, int(os.environ.get("FUNDFLOW_STATEFUL_SHARDS", "1")))

#: The service's refusals: a normal outcome of a step tried by anyone.
REFUSALS = (PermissionDenied, ValidationFailed, TransitionNotAvailable, ConflictError)

#: Workflow steps tried through ``services.transition`` and the input each one is given.
STEP_DATA: dict[str, dict[str, Any]] = {
    "submit": {},
    "request_attestation": {},
    "attest": {"method": "portal", "need_confirmed": True},
    "decline_attestation": {"reason": "need_not_confirmed"},
    "start_statutory_check": {},
    "clear": {},
    "approve": {},
    "reject": {},
    "confirm_paid": {},
    "payout_failed": {"reason": "other"},
    "close": {},
    "withdraw": {"reason": "applicant_request"},
    "give_up_payout": {"reason": "payee_unreachable"},
    "reconsider": {},
    "request_completion": {"message": "Komplettera"},
    "resubmit": {},
}
#: At most this many cases per example: fewer cases, each taken further.
MAX_CASES = 3
#: States in which a case may hold no money on its way to the bank.
FINISHED_STATES = (State.WITHDRAWN, State.REJECTED, State.CLOSED)
#: States after which a case needs the person no more (issue #14: the retention rule).
CLOSED_FOR_GOOD = (State.REFERRED, State.CLOSED, State.WITHDRAWN, State.REJECTED)
#: Days to ask for omprövning, from a case's last state change (RECONSIDERATION_WINDOW_DAYS).
OMPROVNING_DAYS = 21
#: States on the ordinary path before a decision, which a case walks to be rejected.
PRE_DECISION_STATES = (
    State.DRAFT,
    State.SUBMITTED,
    State.AWAITING_OMBUD,
    State.NEEDS_COMPLETION,
    State.OMBUD_VERIFIED,
    State.STATUTORY_CHECK,
)
#: When an administrator tries an erasure: today, once the time for omprövning has run, and
#: once the seven-year hold of this year's vouchers has ended (every voucher of a run is
#: booked today, in this calendar fiscal year).
ERASURE_MOMENTS = ("today", "after omprövning", "after the hold")

actors = st.sampled_from(ACTORS)


def likely(*names: str) -> st.SearchStrategy[str]:
    """Half the time one of the users a step is meant for, else anyone (the wrong included)."""
    return st.one_of(st.sampled_from(names), actors)


treasurers = likely("treasurer", "treasurer2")
officers = likely("officer", "officer2")

#: The next step of the ordinary path from each state, and who would normally take it
#: ("case_ombud": the case's own ombud).
NEXT_STEP: dict[str, tuple[str, tuple[str, ...]]] = {
    State.DRAFT: ("submit", ("case_ombud", "officer")),
    State.SUBMITTED: ("request_attestation", ("officer", "officer2")),
    State.AWAITING_OMBUD: ("attest", ("case_ombud",)),
    State.NEEDS_COMPLETION: ("resubmit", ("case_ombud", "officer")),
    State.OMBUD_VERIFIED: ("start_statutory_check", ("officer", "officer2")),
    State.STATUTORY_CHECK: ("clear", ("officer", "officer2")),
    State.READY_FOR_DECISION: ("approve", ("decider", "decider2")),
    State.APPROVED: ("schedule_payout", ("treasurer", "treasurer2")),
    State.PAYOUT_SCHEDULED: ("pay_out", ("treasurer", "treasurer2")),
    State.REJECTED: ("reconsider", ("decider", "decider2")),
    State.PAID: ("close", ("officer", "officer2")),
}
#: A choice among a few cases, batches, payees or files (taken modulo how many there are).
picks = st.integers(min_value=0, max_value=7)
T = TypeVar("T")
Check = Callable[["MoneyPath"], None]


#: Every ``@holds`` check, to run once more after the erasures that end each example.
INVARIANTS: list[Check] = []


def holds(check: Check) -> Check:
    """An invariant of the issue, checked after every step; any break fails the run."""
    INVARIANTS.append(check)
    return invariant()(check)  # type: ignore[no-any-return]


@dataclass
class Stats:
    """What the run did, for the evidence report."""

    examples: int = 0
    steps: int = 0  # rules run (each followed by every invariant)
    calls: int = 0  # service calls the rules made
    refusals: int = 0
    reached: Counter[str] = field(default_factory=Counter)  # what the examples got to


class MoneyPath(RuleBasedStateMachine):
    """The machine over one world; ``ids`` and ``stats`` are set per test (see ``machine``)."""

    ids: WorldIds
    stats: Stats

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        self.stats.examples += 1
        self.users = load_users(self.ids)
        self.funds = Fund.objects.in_bulk(self.ids.funds.values())
        self.cases: list[int] = []  # application ids
        self.person_of: dict[int, int] = {}  # application id -> index in PERSONS
        self.registrations: dict[int, list[Any]] = defaultdict(list)  # person -> Beneficiary
        self.payees = list(Payee.objects.order_by("pk").values_list("pk", flat=True))
        self.batches: list[int] = []
        self.bank = Bank()
        self.hand_confirmed: set[int] = set()  # orders a treasurer confirmed as paid
        self.entitlement = Entitlement(handlers=self.ids.handlers)
        # Checkpoint files an auditor downloaded and keeps outside (issue #15).
        self.kept_files: list[Path] = []
        self.unentitled_reads: list[tuple[str, str, str]] = []  # (who, case, why not)
        self.unlogged_reads: list[tuple[str, str]] = []  # (who, case): a read without its event
        self.erased: set[int] = set()  # Beneficiary ids
        self.erasure_breaks: list[str] = []
        #: Steps that were refused but left something behind, or took what they must refuse.
        self.one_form_breaks: list[str] = []
        #: Files (message ids) the bank answered for: they may never be declared void.
        self.answered_files: set[str] = set()

    def teardown(self) -> None:
        try:
            self.erase_everyone_at_the_end()
        finally:
            self.count_and_roll_back()

    def erase_everyone_at_the_end(self) -> None:
        """Wherever the example stopped, an administrator tries to erase each person at each
        moment in turn; then every invariant must still hold (issue #14)."""
        people = Beneficiary.objects.filter(applications__in=self.cases).distinct()
        for person in people.order_by("pk"):
            for moment in ERASURE_MOMENTS:
                if self.try_erasure(Beneficiary.objects.get(pk=person.pk), "admin", moment):
                    break
        for check in INVARIANTS:
            check(self)

    def count_and_roll_back(self) -> None:
        self.stats.reached.update(Application.objects.values_list("state", flat=True))
        self.stats.reached["files exported"] += len(self.bank.received)
        self.stats.reached["orders paid"] += PaymentOrder.objects.filter(
            status=OrderStatus.PAID
        ).count()
        self.stats.reached["files voided"] += PaymentBatch.objects.filter(
            status=BatchStatus.VOIDED
        ).count()
        self.stats.reached["bank exceptions"] += BankException.objects.count()
        self.stats.reached["people erased"] += len(self.erased)
        self.stats.reached["payouts given up"] += AuditEvent.objects.filter(
            action="application.give_up_payout"
        ).count()
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------

    def attempt(self, call: Callable[[], T]) -> T | None:
        """Run one call; a refusal is an outcome (None), any other exception fails the test."""
        self.stats.calls += 1
        try:
            return call()
        except REFUSALS:
            self.stats.refusals += 1
            return None

    def case(self, pick: int) -> Application:
        return Application.objects.select_related("fund").get(pk=self.cases[pick % len(self.cases)])

    def may_add_case(self) -> bool:
        """A few cases at a time, so that the steps take them far."""
        return len(self.cases) < MAX_CASES

    def has_cases(self) -> bool:
        return bool(self.cases)

    def has_batches(self) -> bool:
        return bool(self.batches)

    def bank_has_files(self) -> bool:
        return bool(self.bank.received)

    # --- cases ---------------------------------------------------------------------------

    @precondition(may_add_case)
    @rule(
        actor=likely("ombud", "ombud2", "officer"),
        fund=st.sampled_from(sorted(FUNDS)),
        person=st.integers(0, len(PERSONS) - 1),
        register_again=st.booleans(),
        amounts=st.lists(st.sampled_from(["1500", "3000", "4500"]), min_size=1, max_size=2),
    )
    def create_case(
        self, actor: str, fund: str, person: int, register_again: bool, amounts: list[str]
    ) -> None:
        """Apply for a person; the same person again may come under a new registration."""
        user = self.users[actor]
        number, protected = PERSONS[person]

        def create() -> Application:
            known = self.registrations[person]
            # An erased registration is gone for good: the person is registered anew.
            if register_again or not known or known[-1].pk in self.erased:
                beneficiary = services.register_beneficiary(
                    actor=user,
                    name=f"Person {person}",
                    personal_number=number,
                    protected_identity=protected,
                    region="AB",
                )
                known.append(beneficiary)
            return services.create_application(
                actor=user,
                fund=self.funds[self.ids.funds[fund]],
                beneficiary=known[-1],
                items=[NeedInput(category="glasses", amount=a) for a in amounts],
                ombud=self.users["ombud"].ombud,
            )

        app = self.attempt(create)
        if app is not None:
            self.cases.append(app.pk)
            self.person_of[app.pk] = person

    @precondition(has_cases)
    @rule(case=picks, steps=st.integers(1, 24), who=st.integers(0, 1))
    def advance(self, case: int, steps: int, who: int) -> None:
        """Walk a case up to ``steps`` steps along the ordinary path, by the usual people."""
        for _turn in range(steps):
            app = self.case(case)
            if app.state not in NEXT_STEP or not self.take_next_step(app, who):
                return

    # Hypothesis picks rules uniformly, and among some thirty rules the ordinary path came
    # up too rarely for most examples to reach the bank. Two more doors to the same walk
    # weight it, so files, bank answers, voids and exceptions happen in most examples.
    @precondition(has_cases)
    @rule(case=picks, steps=st.integers(1, 24), who=st.integers(0, 1))
    def keep_walking(self, case: int, steps: int, who: int) -> None:
        self.advance(case, steps, who)

    @precondition(has_batches)
    @rule(case=picks, steps=st.integers(1, 24), who=st.integers(0, 1))
    def carry_the_payout_on(self, case: int, steps: int, who: int) -> None:
        self.advance(case, steps, who)

    def take_next_step(self, app: Application, who: int) -> bool:
        """The case's next ordinary step, tried by each usual person until one may take it."""
        name, candidates = NEXT_STEP[app.state]
        ombud = next(n for n in ("ombud", "ombud2") if self.users[n].ombud.pk == app.ombud_id)
        names = [ombud if c == "case_ombud" else c for c in candidates]
        for user in (self.users[n] for n in names[who % len(names) :] + names[: who % len(names)]):
            if name == "clear" and not all(
                hasattr(item, "statutory_assessment") for item in app.items.all()
            ):
                self.assess_items(app, user, Obligation.NOT_OBLIGED)
            data = STEP_DATA.get(name, {})
            if name == "schedule_payout":  # to the organisation's newest active payee
                newest = Payee.objects.filter(
                    organisation__ombud=app.ombud_id, active=True, approved_by__isnull=False
                ).order_by("-pk")
                data = {"payee": newest.values_list("pk", flat=True).first()}
            if name == "approve":  # a co-signer names the decision shown, as the page does
                pending = app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).first()
                data = {"decision": pending.pk} if pending is not None else data
            done: Any
            if name == "pay_out":
                done = self.pay_out(app, user)
            elif name == "clear" and who % 2:  # the one assessment form (issue #19)
                # Society obliged for every item: refused, and nothing of it may be kept.
                if self.send_to_decision(app, user, Obligation.OBLIGED) is not None:
                    self.one_form_breaks.append(f"{app.reference}: cleared though all obliged")
                done = self.send_to_decision(app, user, Obligation.NOT_OBLIGED)
            elif name == "approve" and who % 2 and "decision" not in data:
                approve_all = [ItemVerdict(item=i.pk, verdict="approve") for i in app.items.all()]
                done = self.attempt(partial(decide_items, app, actor=user, verdicts=approve_all))
                self.stats.reached["decided item by item"] += bool(done)
            else:
                done = self.attempt(
                    partial(
                        services.transition, app, actor=user, step=step_inputs.parse(name, data)
                    )
                )
            if done:
                self.stats.reached["co-signed by name"] += "decision" in data
                return True
            app = self.case(self.cases.index(app.pk))
        return False

    def pay_out(self, app: Application, user: Any) -> bool:
        """The next step of a scheduled case's payout: batch its orders, or walk their batch."""
        order = (
            PaymentOrder.objects.filter(application=app, status=OrderStatus.SCHEDULED)
            .select_related("batch")
            .first()
        )
        if order is None:
            return False
        if order.batch is None:
            return self.batch_orders(user, [app]) is not None
        if order.batch.status == BatchStatus.SENT:  # the bank settles the whole file
            transfers = self.bank.received.get(order.batch.message_id, [])
            answers = ["ACSC"] * len(transfers)
            return self.status_report(order.batch.message_id, answers, user) is not None
        return self.walk_batch(order.batch, user)

    @precondition(has_cases)
    @rule(case=picks, name=st.sampled_from(sorted(STEP_DATA)), actor=actors)
    def step(self, case: int, name: str, actor: str) -> None:
        """Any workflow step on any case, by anyone."""
        app = self.case(case)
        paid_before = set(self._paid_orders(app))
        done = self.attempt(
            lambda: services.transition(
                app, actor=self.users[actor], step=step_inputs.parse(name, STEP_DATA[name])
            )
        )
        if done is not None and name == "confirm_paid":
            self.hand_confirmed |= set(self._paid_orders(app)) - paid_before

    @staticmethod
    def _paid_orders(app: Application) -> list[int]:
        return list(
            PaymentOrder.objects.filter(application=app, status=OrderStatus.PAID).values_list(
                "pk", flat=True
            )
        )

    @precondition(has_cases)
    @rule(case=picks, actor=likely("decider", "decider2"), partly=st.booleans())
    def approve_partly(self, case: int, actor: str, partly: bool) -> None:
        """Grant the first item in part (a decision under the two-signature threshold)."""
        app = self.case(case)
        first = app.items.order_by("position").first()
        data = {"items": [{"item": first.pk, "amount": "500"}]} if partly and first else {}
        self.attempt(
            lambda: services.transition(
                app, actor=self.users[actor], step=step_inputs.parse("approve_partly", data)
            )
        )

    @precondition(has_cases)
    @rule(
        case=picks,
        actor=officers,
        outcome=st.sampled_from([Obligation.NOT_OBLIGED, Obligation.PARTLY]),
    )
    def assess(self, case: int, actor: str, outcome: str) -> None:
        """The statutory assessment of every item of a case."""
        self.assess_items(self.case(case), self.users[actor], outcome)

    def assess_items(self, app: Application, user: Any, outcome: str) -> None:
        partly = {"authority": "social_services", "legal_basis": "sol_4_1"}
        extra = {**partly, "grantable_amount": "1000"} if outcome == Obligation.PARTLY else {}

        def assess_all() -> None:
            for item in app.items.order_by("position"):
                services.record_statutory_assessment(item, actor=user, outcome=outcome, **extra)

        self.attempt(assess_all)

    @precondition(has_cases)
    @rule(case=picks, actor=treasurers, payee=st.none() | picks)
    def schedule_payout(self, case: int, actor: str, payee: int | None) -> None:
        """Schedule a case's payout, to the default payee or to one chosen."""
        app = self.case(case)
        data = {} if payee is None else {"payee": self.payees[payee % len(self.payees)]}
        self.attempt(
            lambda: services.transition(
                app, actor=self.users[actor], step=step_inputs.parse("schedule_payout", data)
            )
        )

    @precondition(has_cases)
    @rule(case=picks, actor=officers, officer=officers)
    def assign(self, case: int, actor: str, officer: str) -> None:
        app = self.case(case)
        self.attempt(
            lambda: assign_officer(app, actor=self.users[actor], officer=self.users[officer])
        )

    @precondition(has_cases)
    @rule(case=picks, actor=actors)
    def read_person(self, case: int, actor: str) -> None:
        """Read the person's data through the case; a read nobody entitled made is a break."""
        app = self.case(case)
        user = self.users[actor]
        protected = PERSONS[self.person_of[app.pk]][1]
        logged = AuditEvent.objects.filter(
            action="personal_data.viewed", object_ref=app.beneficiary.reference, actor_id=user.pk
        )
        before = logged.count()
        values = self.attempt(
            lambda: read_personal_data(app.beneficiary, actor=user, application=app)
        )
        refusal = self.entitlement.refusal(actor, user, app, protected)
        if app.beneficiary_id in self.erased:
            refusal = ERASED
        if values is not None and refusal:
            self.unentitled_reads.append((actor, app.reference, refusal))
        if logged.count() != before + (values is not None):
            self.unlogged_reads.append((actor, app.reference))

    @precondition(has_cases)
    @rule(case=picks, actor=likely("decider", "decider2"), grantee=actors)
    def grant_protected_access(self, case: int, actor: str, grantee: str) -> None:
        """A decision-maker opens a protected person to someone (never to themselves)."""
        app = self.case(case)
        reason = ProtectedAccessReason.CASE_HANDLING
        done = self.attempt(
            lambda: grant_protected_access(
                app, actor=self.users[actor], grantee=self.users[grantee], reason=reason
            )
        )
        if done is not None:
            self.entitlement.grants.add((app.pk, grantee))

    @precondition(has_cases)
    @rule(case=picks, actor=likely("decider", "decider2"))
    def revoke_protected_access(self, case: int, actor: str) -> None:
        grant = ProtectedIdentityGrant.objects.filter(
            application_id=self.cases[case % len(self.cases)], revoked_at__isnull=True
        ).first()
        if grant is None:
            return
        grantee = next(n for n, u in self.users.items() if u.pk == grant.grantee_id)
        if self.attempt(lambda: revoke_protected_access(grant, actor=self.users[actor])):
            self.entitlement.grants.discard((grant.application_id, grantee))

    @precondition(has_cases)
    @rule(
        case=picks, actor=likely("officer", "decider"), ombud=st.sampled_from(["ombud", "ombud2"])
    )
    def hand_to_another_ombud(self, case: int, actor: str, ombud: str) -> None:
        """A revoked ombud's case goes to another verified ombud."""
        app = self.case(case)
        target = self.users[ombud].ombud
        self.attempt(lambda: reassign_ombud(app, actor=self.users[actor], ombud=target))

    # Anyone may try; only an administrator succeeds, so a revocation (which stalls an
    # ombud's cases until they are handed on) happens in some examples, not in most.
    @rule()
    def auditor_keeps_the_checkpoint_file(self) -> None:
        """A checkpoint is made (as the automatic ones are) and the auditor downloads the
        file and keeps it; every later step must leave the chain passing through it."""
        create_checkpoint()
        folder = Path(tempfile.mkdtemp(prefix="kept-"))
        path = folder / f"checkpoints-{len(self.kept_files)}.txt"
        path.write_text(auditors_file(), encoding="utf-8")
        self.kept_files.append(path)
        self.stats.reached["checkpoint files kept"] += 1

    @rule(actor=actors, ombud=st.sampled_from(["ombud", "ombud2"]))
    def revoke_ombud(self, actor: str, ombud: str) -> None:
        target = self.users[ombud].ombud
        if self.attempt(
            lambda: set_ombud_status(target, actor=self.users[actor], status=OmbudStatus.REVOKED)
        ):
            self.entitlement.revoked.add(target.pk)

    # --- erasure -------------------------------------------------------------------------

    @precondition(has_cases)
    @rule(case=picks, actor=likely("admin"), until=st.sampled_from(ERASURE_MOMENTS))
    def erase(self, case: int, actor: str, until: str) -> None:
        """Someone (an administrator, mostly) tries to erase a case's person: today, and
        again at each later moment up to ``until`` while the person is still there.

        It must succeed exactly when the retention rule says the person is due, and the rule
        as computed must agree with the rule as the issue states it (``erasure_due``).
        """
        # Mostly the person of a finished case: erasure is for them (an open case refuses).
        finished = list(
            Application.objects.filter(pk__in=self.cases, state__in=CLOSED_FOR_GOOD)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        pool = finished if finished and case % 4 else self.cases
        app = Application.objects.get(pk=pool[case % len(pool)])
        for moment in ERASURE_MOMENTS[: ERASURE_MOMENTS.index(until) + 1]:
            person = Beneficiary.objects.get(pk=app.beneficiary_id)
            if self.try_erasure(person, actor, moment):
                return

    def try_erasure(self, person: Beneficiary, actor: str, moment: str) -> bool:
        on = self.moment(moment)
        stated = self.erasure_due(person, on)
        said = retention_of(person, on)
        done = self.attempt(lambda: erase_person(person, actor=self.users[actor], today=on))
        expected = actor == "admin" and (person.is_erased or stated)
        if not person.is_erased and said.due != stated:
            self.erasure_breaks.append(f"{person.reference} {moment}: rule says {said}")
        if (done is not None) != expected:
            self.erasure_breaks.append(
                f"{person.reference} {moment} by {actor}: erased {done is not None}, "
                f"due {stated} ({said.reason})"
            )
        if done is not None:
            self.erased.add(person.pk)
            self.try_every_read(person)
            self.try_omprovning(person)
        return done is not None

    def try_omprovning(self, person: Beneficiary) -> None:
        """Both decision-makers ask to reconsider each rejected case of the erased person."""
        for app in Application.objects.filter(beneficiary=person, state=State.REJECTED):
            for name in ("decider", "decider2"):
                self.attempt(
                    partial(
                        services.transition,
                        app,
                        actor=self.users[name],
                        step=step_inputs.Reconsider(),
                    )
                )

    @precondition(has_cases)
    @rule(case=picks, how=st.sampled_from(["withdraw", "reject"]), who=st.integers(0, 1))
    def end_without_money(self, case: int, how: str, who: int) -> None:
        """The case's ombud withdraws it, or a decision-maker rejects it: a person whose cases
        end without a voucher, held only until the time for omprövning has run."""
        app = self.case(case)
        for _turn in range(len(PRE_DECISION_STATES)):
            # A rejection takes the ordinary path up to the decision first.
            if how != "reject" or app.state not in PRE_DECISION_STATES:
                break
            if not self.take_next_step(app, who):
                return
            app = self.case(case)
        if how == "withdraw":
            ombud = next(n for n in ("ombud", "ombud2") if self.users[n].ombud.pk == app.ombud_id)
            user = self.users[ombud]
        else:
            user = self.users[("decider", "decider2")[who]]
        self.attempt(
            partial(
                services.transition, app, actor=user, step=step_inputs.parse(how, STEP_DATA[how])
            )
        )

    @precondition(has_cases)
    @rule(case=picks, actor=officers, fail_first=st.booleans())
    def give_up_payout(self, case: int, actor: str, fail_first: bool) -> None:
        """Issue #16: an officer gives up a payout that cannot be made; the case closes.

        With ``fail_first``, the case first takes the ordinary path up to its decision, and an
        approved case's payout is scheduled and failed by hand (refused once its file is
        exported), so the step is reached in short examples too."""
        app = self.case(case)
        for _turn in range(len(PRE_DECISION_STATES) + 2):
            if not fail_first or app.state not in (*PRE_DECISION_STATES, State.READY_FOR_DECISION):
                break
            if not self.take_next_step(app, 0):
                break
            app = self.case(case)
        if fail_first and app.state == State.APPROVED:
            self.take_next_step(app, 0)
            app = self.case(case)
        if fail_first and app.state == State.PAYOUT_SCHEDULED:
            self.attempt(
                partial(
                    services.transition,
                    app,
                    actor=self.users["treasurer"],
                    step=step_inputs.parse("payout_failed", STEP_DATA["payout_failed"]),
                )
            )
            app = self.case(case)
        self.attempt(
            partial(
                services.transition,
                app,
                actor=self.users[actor],
                step=step_inputs.parse("give_up_payout", STEP_DATA["give_up_payout"]),
            )
        )

    @staticmethod
    def moment(name: str) -> date:
        today = timezone.localdate()
        return {
            "today": today,
            "after omprövning": today + timedelta(days=OMPROVNING_DAYS + 1),
            "after the hold": date(today.year + 8, 1, 1),
        }[name]

    @staticmethod
    def erasure_due(person: Beneficiary, on: date) -> bool:
        """Issue #14: no open case; with money booked on a case (a payout or a bank
        exception), the end of the 7th year after this (calendar) fiscal year; without, the
        time for omprövning after the last state change. A grant's own vouchers (series D,
        issue #16) move no money and do not hold the person."""
        apps = list(Application.objects.filter(beneficiary=person))
        if any(app.state not in CLOSED_FOR_GOOD for app in apps):
            return False
        if not apps:
            return True
        booked = (
            PaymentOrder.objects.filter(application__in=apps, voucher__isnull=False).exists()
            or BankException.objects.filter(order__application__in=apps).exists()
        )
        if booked:
            return on > date(timezone.localdate().year + 7, 12, 31)
        last = max(timezone.localtime(app.state_changed_at or app.created_at) for app in apps)
        return on > last.date() + timedelta(days=OMPROVNING_DAYS)

    def try_every_read(self, person: Beneficiary) -> None:
        """After erasure nobody reads the person: not through a case, not for an audit, not
        for a subject access request."""
        person = Beneficiary.objects.get(pk=person.pk)
        reads: list[tuple[str, dict[str, Any]]] = [
            ("auditor", {"purpose": AccessPurpose.AUDIT, "reason": "Stickprov"}),
            ("admin", {"purpose": AccessPurpose.SUBJECT_ACCESS}),
        ]
        for app in Application.objects.filter(beneficiary=person).select_related("fund"):
            reads += [(name, {"application": app}) for name in ("ombud", "officer", "decider")]
        for name, how in reads:
            user = self.users[name]
            if self.attempt(partial(read_personal_data, person, actor=user, **how)) is not None:
                self.unentitled_reads.append((name, person.reference, ERASED))

    # --- payees --------------------------------------------------------------------------

    @rule(
        actor=treasurers,
        ombud=st.sampled_from(["ombud", "ombud2"]),
        account=st.sampled_from(BANKGIRO),
    )
    def register_payee(self, actor: str, ombud: str, account: str) -> None:
        """Another payee for an organisation: its default payee is no longer unambiguous."""
        payee = self.attempt(
            lambda: create_payee(
                actor=self.users[actor],
                kind="organisation",
                name="Socialtjänsten, nytt konto",
                method="bankgiro",
                account=account,
                organisation=self.users[ombud].ombud.organisation,
            )
        )
        if payee is not None:
            self.payees.append(payee.pk)

    @rule(actor=treasurers, payee=picks)
    def approve_payee(self, actor: str, payee: int) -> None:
        """A second treasurer approves a new payee before money can go to it."""
        target = Payee.objects.get(pk=self.payees[payee % len(self.payees)])
        self.attempt(lambda: approve_payee(target, actor=self.users[actor]))

    @rule(actor=treasurers, payee=picks)
    def deactivate_payee(self, actor: str, payee: int) -> None:
        target = Payee.objects.get(pk=self.payees[payee % len(self.payees)])
        self.attempt(lambda: deactivate_payee(target, actor=self.users[actor]))

    # --- batches -------------------------------------------------------------------------

    @rule(actor=treasurers, case=st.none() | picks)
    def create_batch(self, actor: str, case: int | None) -> None:
        """Batch every scheduled order, or one case's."""
        apps = None if case is None or not self.cases else [self.case(case)]
        self.batch_orders(self.users[actor], apps)

    def batch_orders(self, user: Any, apps: list[Application] | None) -> PaymentBatch | None:
        batch = self.attempt(lambda: batches.create_batch(actor=user, applications=apps))
        if batch is not None:
            self.batches.append(batch.pk)
        return batch

    def _batch(self, pick: int) -> PaymentBatch:
        return PaymentBatch.objects.get(pk=self.batches[pick % len(self.batches)])

    @precondition(has_batches)
    @rule(batch=picks, steps=st.integers(1, 3), who=st.integers(0, 1))
    def advance_batch(self, batch: int, steps: int, who: int) -> None:
        """Walk a batch along the ordinary path: approved by the other treasurer, exported, sent."""
        user = self.users[("treasurer", "treasurer2")[who]]
        for _ in range(steps):
            if not self.walk_batch(self._batch(batch), user):
                return

    def walk_batch(self, batch: PaymentBatch, user: Any) -> bool:
        """One ordinary step of a batch; False when it has none or the step was refused."""
        if batch.status == BatchStatus.DRAFT:  # the first treasurer free of the batch approves
            for name in ("treasurer2", "treasurer", "treasurer3"):
                approver = self.users[name]
                if approver.pk != batch.created_by_id and self.attempt(
                    partial(batches.approve_batch, batch, actor=approver)
                ):
                    return True
            return False
        if batch.status == BatchStatus.APPROVED and batch.exported_at is None:
            self.export(batch, user)
            return False  # a pause: the file is at the bank, not yet marked sent
        if batch.status == BatchStatus.APPROVED and batch.pk % 2 and batch.pk in self.batches:
            # Every other file: the bank first only accepts it, and a treasurer who did not
            # export it then declares it never received; the void must be refused (#20).
            count = len(self.bank.received.get(batch.message_id, []))
            if self.status_report(batch.message_id, ["ACCP"] * count, user) is not None:
                self.stats.reached["files the bank accepted"] += 1
                self.void_file(self.batches.index(batch.pk), "treasurer3")
                return True
        if batch.status == BatchStatus.APPROVED:
            return self.attempt(lambda: batches.mark_sent(batch, actor=user)) is not None
        return False

    @precondition(has_batches)
    @rule(batch=picks, actor=treasurers)
    def approve_batch(self, batch: int, actor: str) -> None:
        target = self._batch(batch)
        self.attempt(lambda: batches.approve_batch(target, actor=self.users[actor]))

    @precondition(has_batches)
    @rule(batch=picks, actor=treasurers)
    def export_batch(self, batch: int, actor: str) -> None:
        self.export(self._batch(batch), self.users[actor])

    def export(self, batch: PaymentBatch, user: Any) -> bytes | None:
        """Export a batch's pain.001 file: from here on the bank may have it."""
        content = self.attempt(lambda: batches.export_batch(batch, actor=user))
        if content is not None:
            self.bank.receive(content)
        return content

    @precondition(has_batches)
    @rule(batch=picks, actor=treasurers)
    def mark_sent(self, batch: int, actor: str) -> None:
        target = self._batch(batch)
        self.attempt(lambda: batches.mark_sent(target, actor=self.users[actor]))

    @precondition(has_batches)
    @rule(batch=picks, actor=treasurers)
    def cancel_batch(self, batch: int, actor: str) -> None:
        target = self._batch(batch)
        self.attempt(lambda: batches.cancel_batch(target, actor=self.users[actor]))

    @precondition(has_batches)
    @rule(batch=picks, actor=likely("treasurer", "treasurer2", "treasurer3"))
    def void_file(self, batch: int, actor: str) -> None:
        """Someone declares that the bank did not receive an exported file (it may have)."""
        target = self._batch(batch)
        answered = target.message_id in self.answered_files
        voided = self.attempt(lambda: batches.void_batch_file(target, actor=self.users[actor]))
        if voided is not None and answered:
            self.one_form_breaks.append(f"{target.message_id}: voided after the bank answered")

    @precondition(bank_has_files)
    @rule(file=picks, actor=likely("treasurer3"))
    def void_a_file_the_bank_only_accepted(self, file: int, actor: str) -> None:
        """The bank accepts a file (a pain.002 saying only ACCP), then someone declares it was
        never received: the void must be refused, or its payments would go out twice."""
        message_id = sorted(self.bank.received)[file % len(self.bank.received)]
        count = len(self.bank.received[message_id])
        self.status_report(message_id, ["ACCP"] * count, self.users["treasurer"])
        batch = PaymentBatch.objects.get(message_id=message_id)
        if batch.pk in self.batches:
            self.void_file(self.batches.index(batch.pk), actor)

    @rule(
        pick=picks,
        actor=likely("treasurer", "treasurer2", "treasurer3"),
        resolution=st.sampled_from(BankExceptionResolution.values),
    )
    def resolve_bank_exception(self, pick: int, actor: str, resolution: str) -> None:
        """A treasurer decides where money the bank moved against our intentions belongs."""
        open_ones = list(BankException.objects.filter(resolution="").order_by("pk"))
        if not open_ones:
            return
        target = open_ones[pick % len(open_ones)]
        self.attempt(
            lambda: resolve_bank_exception(target, actor=self.users[actor], resolution=resolution)
        )

    # --- the bank's answers --------------------------------------------------------------

    @precondition(bank_has_files)
    @rule(
        file=picks,
        answers=st.lists(st.sampled_from(["ACSC", "RJCT", "ACCP"]), min_size=1, max_size=3),
        actor=treasurers,
    )
    def bank_status_report(self, file: int, answers: list[str], actor: str) -> None:
        """A pain.002 for a file the bank received: settled, rejected or pending per payment."""
        message_id = sorted(self.bank.received)[file % len(self.bank.received)]
        self.status_report(message_id, answers, self.users[actor])

    def status_report(self, message_id: str, answers: list[str], user: Any) -> Any:
        wanted = {"ACSC": PAID, "RJCT": NOT_PAID, "ACCP": "pending"}
        status = {PAID: ("ACSC", ""), NOT_PAID: ("RJCT", "AC04"), "pending": ("ACCP", "")}
        lines = []
        for transfer, answer in zip(self.bank.received[message_id], answers, strict=False):
            fate = self.bank.decide(transfer.order_id, wanted[answer])
            if fate == PAID:
                self.bank.paid_amount[transfer.order_id] = transfer.amount
            lines.append((transfer.order_id, *status[fate]))
        content = pain002(message_id, lines)
        report = self.attempt(lambda: bank_status.import_pain002(content, actor=user))
        if report is not None:
            self.answered_files.add(message_id)  # whatever it said, the bank has the file
        return report

    @precondition(bank_has_files)
    @rule(
        payments=st.lists(
            st.tuples(picks, st.sampled_from([PAID, NOT_PAID])), min_size=1, max_size=3
        ),
        booked=st.booleans(),
        coded_status=st.booleans(),
        one_entry=st.booleans(),
        misstated=st.booleans(),
        actor=treasurers,
    )
    def bank_debit_notification(
        self,
        payments: list[tuple[int, str]],
        booked: bool,
        coded_status: bool,
        one_entry: bool,
        misstated: bool,
        actor: str,
    ) -> None:
        """A camt.054: booked or pending (``<Sts>X</Sts>`` or ``<Sts><Cd>X</Cd></Sts>``),
        returned payments, one entry per payment or one entry with several, and sometimes a
        transaction whose amount is not what we asked (the bank booked something else)."""
        transfers = self.bank.transfers()
        chosen = {transfers[pick % len(transfers)]: want for pick, want in payments}
        by_status: dict[str, list[CamtTx]] = defaultdict(list)
        for transfer, want in chosen.items():
            decided_before = transfer.order_id in self.bank.fate
            fate = self.bank.decide(transfer.order_id, want if booked else "pending")
            if fate == PAID and misstated and not decided_before and not by_status["BOOK"]:
                # The bank booked another amount than ours: that is not our payment paid.
                tx = CamtTx(transfer.order_id, transfer.amount + 1)
                self.bank.fate.pop(transfer.order_id, None)
            elif fate == PAID:
                tx = CamtTx(transfer.order_id, transfer.amount)
                self.bank.paid_amount[transfer.order_id] = transfer.amount
            elif fate == NOT_PAID:
                tx = CamtTx(transfer.order_id, transfer.amount, returned="AC04")
            else:
                tx = CamtTx(transfer.order_id, transfer.amount)
            by_status["BOOK" if fate != "pending" else "PDNG"].append(tx)
        entries = []
        for code, txs in by_status.items():
            element = f"<Sts><Cd>{code}</Cd></Sts>" if coded_status else f"<Sts>{code}</Sts>"
            groups = [txs] if one_entry else [[tx] for tx in txs]
            entries += [(element, group) for group in groups if group]
        content = camt054(entries, timezone.localdate().isoformat())
        self.attempt(lambda: bank_status.import_camt054(content, actor=self.users[actor]))

    # --- the one-page forms of issue #19 ------------------------------------------------

    def assessments_of(self, app: Application) -> list[tuple[int, str, Any]]:
        return list(
            StatutoryAssessment.objects.filter(need_item__application=app)
            .order_by("need_item_id")
            .values_list("need_item_id", "outcome", "grantable_amount")
        )

    @precondition(has_cases)
    @rule(
        case=picks,
        actor=officers,
        outcome=st.sampled_from([Obligation.NOT_OBLIGED, Obligation.PARTLY, Obligation.OBLIGED]),
    )
    def assess_and_send_to_decision(self, case: int, actor: str, outcome: str) -> None:
        """The one assessment form: every item assessed and the case cleared, or neither."""
        self.send_to_decision(self.case(case), self.users[actor], outcome)

    def send_to_decision(self, app: Application, user: Any, outcome: str) -> Application | None:
        partly = {"authority": "social_services", "legal_basis": "sol_4_1"}
        extra = {**partly, "grantable_amount": "1000"} if outcome == Obligation.PARTLY else {}
        if outcome == Obligation.OBLIGED:
            extra = partly
        inputs = [
            AssessmentInput(item=item.pk, outcome=outcome, **extra)
            for item in app.items.order_by("position")
        ]
        before = (app.state, self.assessments_of(app))
        done = self.attempt(lambda: assess_and_clear(app, actor=user, assessments=inputs))
        after = (Application.objects.get(pk=app.pk).state, self.assessments_of(app))
        if done is None and after != before:
            self.one_form_breaks.append(f"{app.reference}: a refused send-to-decision kept {after}")
        if done is not None:
            self.stats.reached["sent to decision in one form"] += 1
        if done is not None and after[0] != State.READY_FOR_DECISION:
            self.one_form_breaks.append(f"{app.reference}: sent to decision but is {after[0]}")
        return done

    @precondition(has_cases)
    @rule(
        case=picks,
        actor=likely("decider", "decider2"),
        verdicts=st.lists(st.sampled_from(["approve", "reduce", "reject"]), min_size=1, max_size=3),
        amount=st.sampled_from(["1", "400", "999999"]),
    )
    def decide_every_item(self, case: int, actor: str, verdicts: list[str], amount: str) -> None:
        """The one decision form: approve, reduce or reject per item; the outcome follows."""
        app = self.case(case)
        items = list(app.items.order_by("position"))
        given = [
            ItemVerdict(
                item=item.pk,
                verdict=verdicts[n % len(verdicts)],
                amount=amount if verdicts[n % len(verdicts)] == "reduce" else "",
                reason="" if verdicts[n % len(verdicts)] == "approve" else "outside_purpose",
            )
            for n, item in enumerate(items)
        ]
        if self.attempt(lambda: decide_items(app, actor=self.users[actor], verdicts=given)):
            self.stats.reached["decided item by item"] += 1

    @precondition(has_cases)
    @rule(case=picks, actor=likely("decider", "decider2"), stale=st.booleans())
    def co_sign_what_was_shown(self, case: int, actor: str, stale: bool) -> None:
        """A co-signature names the decision the signer was shown; a stale name is refused."""
        app = self.case(case)
        pending = app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).first()
        if pending is None:
            return
        shown = pending.pk + 1 if stale else pending.pk
        signed_before = pending.signatures.count()
        signed = self.attempt(
            lambda: services.transition(
                app,
                actor=self.users[actor],
                step=step_inputs.parse(pending.outcome, {"decision": shown}),
            )
        )
        if signed is not None and not stale:
            self.stats.reached["co-signed by name"] += 1
        if stale and Decision.objects.get(pk=pending.pk).signatures.count() != signed_before:
            self.one_form_breaks.append(f"{app.reference}: a stale co-signature was taken")

    @holds
    def one_form_steps_are_whole_or_nothing(self) -> None:
        """Issue #19's one-page steps: a refusal leaves nothing, a stale signature is refused;
        and (#20) no file the bank answered for is declared void."""
        assert not self.one_form_breaks, self.one_form_breaks

    @holds
    def every_decision_in_force_has_its_signatures_from_different_people(self) -> None:
        """Two signatures above the threshold, by two decision-makers, neither the preparer."""
        for decision in Decision.objects.exclude(status=DecisionStatus.AWAITING_SIGNATURE).filter(
            effective_at__isnull=False
        ):
            signers = list(decision.signatures.values_list("signer_id", flat=True))
            assert len(signers) >= decision.required_signatures, decision.pk
            assert len(set(signers)) == len(signers), decision.pk

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def count_step(self) -> None:
        """Not a rule of the domain: invariants run after the start and after every step."""
        self.stats.steps += 1

    @holds
    def files_carry_no_more_than_approved(self) -> None:
        """Per commitment, money in exported, not-voided files is at most the approved amount."""
        voided = set(
            PaymentBatch.objects.filter(status=BatchStatus.VOIDED).values_list(
                "message_id", flat=True
            )
        )
        transfers = [
            t
            for message_id, file in self.bank.received.items()
            if message_id not in voided
            for t in file
            if self.bank.in_flight(t)
        ]
        commitment_of = dict(
            PaymentOrder.objects.filter(pk__in={t.order_id for t in transfers}).values_list(
                "pk", "commitment_id"
            )
        )
        in_files: Counter[int] = Counter()
        for transfer in transfers:
            in_files[commitment_of[transfer.order_id]] += transfer.amount  # type: ignore[assignment]
        approved = dict(Commitment.objects.filter(pk__in=in_files).values_list("pk", "amount"))
        over = {pk: total for pk, total in in_files.items() if total > approved[pk]}
        assert not over, f"commitments in exported files above their approved amount: {over}"

    @holds
    def no_order_in_two_files(self) -> None:
        """No order is in two exported files (a replacement is a new order, new id)."""
        seen = Counter(t.order_id for t in self.bank.transfers())
        twice = sorted(pk for pk, n in seen.items() if n > 1)
        assert not twice, f"orders in two exported files: {twice}"

    @holds
    def booked_only_what_the_bank_paid(self) -> None:
        """A paid order was booked by the bank with its amount, or confirmed by a treasurer."""
        paid = PaymentOrder.objects.filter(status=OrderStatus.PAID).values_list("pk", "amount")
        unpaid = sorted(
            pk
            for pk, amount in paid
            if pk not in self.hand_confirmed
            and (self.bank.fate.get(pk) != PAID or self.bank.paid_amount.get(pk) != amount)
        )
        assert not unpaid, f"orders booked as paid that the bank did not pay: {unpaid}"

    @holds
    def every_paid_order_has_one_voucher(self) -> None:
        """One payout voucher per paid order (its text names the order), none for others."""
        paid = set(
            PaymentOrder.objects.filter(status=OrderStatus.PAID).values_list("pk", flat=True)
        )
        per_order = Counter(
            text.rsplit(" ", 1)[-1]
            for text in Voucher.objects.filter(
                series=VoucherSeries.PAYOUT, text__startswith="Utbetalning "
            ).values_list("text", flat=True)
        )
        wrong = {pk: per_order[f"PO-{pk}"] for pk in paid if per_order[f"PO-{pk}"] != 1}
        stray = sorted(set(per_order) - {f"PO-{pk}" for pk in paid})
        assert not wrong and not stray, (
            f"payout vouchers per paid order: {wrong}; vouchers of no paid order: {stray}"
        )

    @holds
    def every_voucher_balances(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # run the deferred ledger triggers now
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        unbalanced = list(
            Posting.objects.values("voucher_id")
            .annotate(total=Sum("amount"))
            .exclude(total=0)
            .values_list("voucher_id", "total")
        )
        assert not unbalanced, f"vouchers that do not balance: {unbalanced}"

    @holds
    def fund_balance_is_its_income_less_its_decided_grants(self) -> None:
        """Each fund's balance is what it received less the grants decided and not released
        (a cost when decided, issue #16), less money the bank paid that was accepted as a grant
        of its own, plus money returned for a paid grant."""
        for code, pk in self.ids.funds.items():
            fund = self.funds[pk]
            decided = Commitment.objects.filter(
                fund_id=pk, status__in=[CommitmentStatus.OPEN, CommitmentStatus.EXPENSED]
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            resolved = BankException.objects.filter(order__fund_id=pk)
            extra_grants = Posting.objects.filter(
                voucher__in=resolved.filter(
                    resolution=BankExceptionResolution.ACCEPTED_AS_GRANT
                ).values("resolution_voucher"),
                account__number="6710",
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            returned = resolved.filter(
                resolution=BankExceptionResolution.RETURNED_TO_FUND
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            expected = FUNDS[code].income - decided - extra_grants + returned
            assert fund_balance(fund).amount == expected, (
                f"{code}: balance {fund_balance(fund).amount}, postings say {expected}"
            )

    @holds
    def commitments_and_expenses_within_the_ceiling(self) -> None:
        year = fiscal_year_for(timezone.localdate())
        for code, pk in self.ids.funds.items():
            fund = self.funds[pk]
            held = Commitment.objects.filter(
                fund_id=pk, status__in=[CommitmentStatus.OPEN, CommitmentStatus.EXPENSED]
            )
            if FUNDS[code].budget is not None:
                ceiling = budget_of(fund, year).amount
                held = held.filter(fiscal_year=year)
            else:
                ceiling = FUNDS[code].income
            total = held.aggregate(total=Sum("amount"))["total"] or Decimal("0")
            assert total <= ceiling, f"{code}: commitments and expenses {total} > {ceiling}"

    @holds
    def finished_case_holds_no_scheduled_order(self) -> None:
        held = list(
            PaymentOrder.objects.filter(
                status=OrderStatus.SCHEDULED, application__state__in=FINISHED_STATES
            ).values_list("pk", "application__reference", "application__state")
        )
        assert not held, f"scheduled orders of withdrawn, rejected or closed cases: {held}"

    @holds
    def finished_case_holds_no_open_commitment(self) -> None:
        """Issue #16: a withdrawn, rejected or closed case (a payout given up included) keeps
        no budget reserved."""
        held = list(
            Commitment.objects.filter(
                status=CommitmentStatus.OPEN, application__state__in=FINISHED_STATES
            ).values_list("pk", "application__reference", "application__state")
        )
        assert not held, f"open commitments of withdrawn, rejected or closed cases: {held}"

    @holds
    def grants_payable_are_the_open_accrued_commitments(self) -> None:
        """Issue #16: per fund, the liability for decided grants (2890) is exactly what is
        decided and neither paid nor released; nothing is left on it for good."""
        for pk in self.ids.funds.values():
            owed = Posting.objects.filter(
                fund_object__fund_id=pk, account__number=chart.account("grants_payable")
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            open_ = Commitment.objects.filter(
                fund_id=pk, status=CommitmentStatus.OPEN, accrued_by__isnull=False
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            assert -owed == open_, f"fund {pk}: 2890 holds {-owed}, open commitments {open_}"

    @holds
    def person_within_yearly_limit(self) -> None:
        """Per person (personnummer index), fund and year: effective + pending <= the limit."""
        decisions = Decision.objects.filter(
            Q(status=DecisionStatus.AWAITING_SIGNATURE)
            | Q(status=DecisionStatus.EFFECTIVE, application__state__in=GRANTED_STATES)
        ).values_list(
            # An erased person has no index left: their decisions count on their own.
            Coalesce(
                NullIf("application__beneficiary__personnummer_index", Value("")),
                Cast("application__beneficiary_id", CharField()),
            ),
            "application__fund__code",
            "created_at",
            "total_approved",
        )
        totals: Counter[tuple[str, str, int]] = Counter()
        for person, fund, created, total in decisions:
            totals[(person, fund, created.year)] += total  # type: ignore[assignment]
        over = {
            (fund, year): total
            for (_person, fund, year), total in totals.items()
            if total > FUNDS[fund].max_per_person_year
        }
        assert not over, f"a person over the fund's yearly limit: {over}"

    def reads_refused_because(self, *why: str) -> list[tuple[str, str, str]]:
        return [read for read in self.unentitled_reads if read[2] in why]

    @holds
    def every_read_of_personal_data_is_logged_once(self) -> None:
        """A successful read appends exactly one `personal_data.viewed` event; a refused none."""
        assert not self.unlogged_reads, f"reads without their audit event: {self.unlogged_reads}"

    @holds
    def nobody_read_a_protected_identity_without_a_grant(self) -> None:
        reads = self.reads_refused_because(PROTECTED)
        assert not reads, f"reads of a protected identity without a logged grant: {reads}"

    @holds
    def nobody_read_a_revoked_ombuds_case(self) -> None:
        reads = self.reads_refused_because(REVOKED_OMBUD)
        assert not reads, f"reads by a revoked ombud: {reads}"

    @holds
    def nobody_read_a_case_they_do_not_work_with(self) -> None:
        reads = self.reads_refused_because(NOT_ON_CASE)
        assert not reads, f"reads by someone not on the case: {reads}"

    @holds
    def nobody_read_an_erased_person(self) -> None:
        reads = self.reads_refused_because(ERASED)
        assert not reads, f"reads of an erased person: {reads}"

    @holds
    def erasure_follows_the_retention_rule(self) -> None:
        """Erasure succeeds exactly when retention says the person is due (issue #14)."""
        assert not self.erasure_breaks, f"erasure against the retention rule: {self.erasure_breaks}"

    @holds
    def erased_people_have_no_open_case(self) -> None:
        """Nothing reopens an erased person's case (omprövning is refused after erasure)."""
        reopened = list(
            Application.objects.filter(beneficiary__in=self.erased)
            .exclude(state__in=CLOSED_FOR_GOOD)
            .values_list("reference", "state")
        )
        assert not reopened, f"open cases of erased people: {reopened}"

    @holds
    def erased_people_keep_no_key_and_their_payouts_only_references(self) -> None:
        """An erased person has no key, token or index left; their cases' paid orders keep
        their vouchers, which name the case and the order, and nothing of the person."""
        if not self.erased:
            return
        kept = list(
            Beneficiary.objects.filter(pk__in=self.erased)
            .exclude(wrapped_key="", encrypted_personal_data="", personnummer_index="")
            .values_list("reference", flat=True)
        )
        assert not kept, f"erased people with a key, token or index left: {kept}"
        paid = PaymentOrder.objects.filter(
            application__beneficiary__in=self.erased, status=OrderStatus.PAID
        ).values_list("pk", "application__reference", "voucher__text")
        wrong = [(pk, text) for pk, ref, text in paid if text != f"Utbetalning {ref} PO-{pk}"]
        assert not wrong, f"payout vouchers of erased people's cases: {wrong}"
        numbers = [number for number, _protected in PERSONS]
        named = [
            text
            for text in Voucher.objects.values_list("text", flat=True)
            if any(number in text.replace("-", "") for number in numbers)
        ]
        assert not named, f"vouchers naming a person: {named}"

    @holds
    def audit_chain_verifies(self) -> None:
        """Intact in itself, and passing through every checkpoint an auditor kept (#15)."""
        held = [cp for path in self.kept_files for cp in read_held_checkpoints(path)[1]]
        outcome = verify_chain(held=held)
        assert outcome.ok, outcome.line()
        assert outcome.held == len(held), outcome.line()


def machine(ids: WorldIds, stats: Stats) -> type[MoneyPath]:
    return type("MoneyPathRun", (MoneyPath,), {"ids": ids, "stats": stats})


@pytest.mark.parametrize("shard", range(SHARDS))
def test_money_path_keeps_its_invariants_in_any_sequence(evidence: Any, shard: int) -> None:
    """The money path keeps its invariants in any sequence of steps by any actor (issue #13)"""
    examples = -(-EXAMPLES // SHARDS)
    ids = build_world()
    stats = Stats()
    breaks = 0
    started = time.monotonic()
    try:
        run_state_machine_as_test(
            machine(ids, stats),
            settings=settings(
                max_examples=examples,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    except BaseException:
        breaks = 1
        raise
    finally:
        seconds = time.monotonic() - started
        steps = stats.steps - stats.examples  # invariants also run once before the first step
        evidence.row(
            tried=f"{f'run {shard + 1} of {SHARDS}: ' if SHARDS > 1 else ''}"
            f"{stats.examples} examples of up to {STEPS} steps by random actors: {steps} "
            f"steps, {stats.calls} service calls ({stats.refusals} refused), every invariant "
            "after every step",
            outcome=f"{breaks} invariant breaks",
            examples=stats.examples,
            steps=steps,
            breaks=breaks,
            database=connection.vendor,
            ms_per_example=round(1000 * seconds / max(stats.examples, 1)),
            reached=", ".join(f"{k}: {n}" for k, n in sorted(stats.reached.items())),
        )
