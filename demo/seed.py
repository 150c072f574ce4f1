"""Demo data: both funds, one user per role and applications in every state.

Everything goes through the services, so the demo's audit trail is real. Idempotent: users,
organisations and funds are looked up before they are made, and cases are only created
while the demo ombud has none.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from accounting.ledger import record_income
from accounting.payees import approve_payee, create_payee
from accounting.payouts import batches
from fund.models import (
    Application,
    Fund,
    FundKind,
    Ombud,
    OmbudStatus,
    Organisation,
    ProtectedAccessReason,
)
from fund.protected_access import grant_protected_access
from workflows import services, step_inputs
from workflows.models import LegalBasis, Obligation
from workflows.services import NeedInput

DEMO_PASSWORD = "fundflow-demo"  # noqa: S105 - documented demo-only password # nosec B105

DEMO_USERS = {
    "ombud": (["ombud"], "Olivia", "Ombudsson"),
    "ombud2": (["ombud"], "Omar", "Ombudsdotter"),
    "officer": (["officer"], "Hanna", "Handläggare"),
    "officer2": (["officer"], "Henrik", "Handläggare"),
    "decider": (["decision_maker"], "Bodil", "Beslutsfattare"),
    "decider2": (["decision_maker"], "Bengt", "Beslutsfattare"),
    "treasurer": (["treasurer"], "Karin", "Kassör"),
    "treasurer2": (["treasurer"], "Kalle", "Kassör"),
    "auditor": (["auditor"], "Rut", "Revisor"),
    "admin": (["administrator"], "Anders", "Administratör"),
}

FIRST = ["Amira", "Elin", "Sara", "Nadia", "Maria", "Ioana", "Jamal", "Ali", "Lina", "Fatima"]
LAST = ["Andersson", "Popescu", "Hassan", "Nilsson", "Ivanova", "Karimi", "Berg", "Lund"]


def _orgnr(seed: int) -> str:
    base = f"80240{seed:04d}"
    return f"{base[:6]}-{base[6:]}{luhn.calc_check_digit(base)}"


def _personnummer(rng: random.Random) -> str:
    born = date(1975 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28))
    serial = f"{rng.randrange(1000):03d}"
    body = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + "-" + serial + luhn.calc_check_digit(body)


def _user(username: str) -> User:
    roles, first, last = DEMO_USERS[username]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.is_staff = username in ("admin", "auditor")
        user.save()
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


def _funds() -> dict[str, Fund]:
    specs: dict[str, dict[str, Any]] = {
        "barnfonden": {
            "name": "Barnfonden",
            "kind": FundKind.CHILDREN,
            "allowed_categories": [
                "clothes",
                "shoes",
                "child_equipment",
                "school_material",
                "leisure",
                "therapy",
            ],
            "max_per_item": Decimal("10000"),
            "max_per_application": Decimal("25000"),
            "max_per_person_year": Decimal("40000"),
            "two_signature_threshold": Decimal("15000"),
            "accounting_dimension": "BF",
            "restricted_funds_account": "2071",
        },
        "egenforsorjning": {
            "name": "Vägar till egenförsörjning",
            "kind": FundKind.SELF_SUFFICIENCY,
            "allowed_categories": [
                "education",
                "course",
                "computer",
                "work_equipment",
                "childcare",
            ],
            "max_per_item": Decimal("30000"),
            "max_per_application": Decimal("60000"),
            "max_per_person_year": Decimal("80000"),
            "two_signature_threshold": Decimal("20000"),
            "accounting_dimension": "VTE",
            "restricted_funds_account": "2072",
            "instalments_allowed": True,
            "follow_up_required": True,
        },
    }
    funds = {}
    for code, spec in specs.items():
        fund, _created = Fund.objects.get_or_create(code=code, defaults=spec)
        funds[code] = fund
    return funds


def _organisations() -> list[Organisation]:
    specs = [
        ("Socialtjänsten Södermalm", "social_services"),
        ("Kvinnojouren Demo", "shelter"),
        ("Stödcentrum Demo", "ngo"),
    ]
    orgs = []
    for index, (name, kind) in enumerate(specs, start=1):
        org, _created = Organisation.objects.get_or_create(
            org_number=_orgnr(index),
            defaults={
                "name": name,
                "kind": kind,
                "verified_at": timezone.now(),
                "verification_method": "Call to the switchboard number in the public register",
            },
        )
        orgs.append(org)
    return orgs


#: Valid Bankgiro numbers (Luhn) for the demo organisations' payees.
DEMO_BANKGIRO = ["5678-1230", "5050-1055", "5402-9681"]


def _money_and_payees(
    users: dict[str, User], funds: dict[str, Fund], orgs: list[Organisation]
) -> None:
    """Opening donations for each fund and a Bankgiro payee for each organisation, registered
    by one treasurer and approved by the other (a new payee needs four eyes)."""
    with transaction.atomic():
        for fund in funds.values():
            record_income(
                fund,
                "2000000",
                kind="donation",
                actor=users["treasurer"],
                reference=f"DEMO-{fund.accounting_dimension}-2026",
            )
        for org, bankgiro in zip(orgs, DEMO_BANKGIRO, strict=True):
            payee = create_payee(
                actor=users["treasurer"],
                kind="organisation",
                name=org.name,
                method="bankgiro",
                account=bankgiro,
                organisation=org,
            )
            approve_payee(payee, actor=users["treasurer2"])


#: Demo year 2006: a gift to Barnfonden and the part of it granted that year (before Fundflow),
#: so that closing 2006 moves the unused 87 600 to Barnfonden's restricted account (2071).
DEMO_2006_GIFT = Decimal("150000.00")
DEMO_2006_USED = Decimal("62400.00")
#: 2007 holds the disposition of 2006's result and the last ESF accrual, 2008 the disposition
#: of 2007's result: both closed too, so that the demo's only open year is the current one.
DEMO_CLOSED_YEARS = (2005, 2006, 2007, 2008)


def _close_demo_years(users: dict[str, User], funds: dict[str, Fund]) -> None:
    """Close 2005-2008 as two treasurers would (periods, prepare, approve); once only."""
    from accounting import year_end
    from accounting.ledger import Line, fiscal_year_for, post_voucher
    from accounting.models import Period, YearEndClosing
    from accounting.period_closing import approve_period_close, propose_period_close

    if YearEndClosing.objects.filter(
        fiscal_year__start__year=DEMO_CLOSED_YEARS[-1], locked_at__isnull=False
    ).exists():
        return
    fund = funds["barnfonden"]
    with transaction.atomic():
        record_income(
            fund,
            DEMO_2006_GIFT,
            kind="donation",
            actor=users["treasurer"],
            reference="DEMO-BF-2006",
            date=date(2006, 3, 15),
        )
        post_voucher(
            series="A",
            text="Lämnade bidrag 2006 BF (före Fundflow)",
            lines=[
                Line("6710", DEMO_2006_USED, fund=fund),
                Line("1930", -DEMO_2006_USED, fund=fund),
            ],
            actor=users["treasurer"],
            date=date(2006, 10, 31),
        )
        for year in DEMO_CLOSED_YEARS:
            fiscal_year = fiscal_year_for(date(year, 1, 1))
            _accrue_co_financing(fiscal_year.end, users["treasurer"])
            for period in Period.objects.filter(fiscal_year=fiscal_year).order_by("start"):
                # Four eyes, as on the year-end page: one proposes, the other closes.
                request = propose_period_close(period, actor=users["treasurer"])
                approve_period_close(request, actor=users["treasurer2"])
            year_end.prepare_year_end(fiscal_year, actor=users["treasurer"])
            year_end.approve_year_end(fiscal_year, actor=users["treasurer2"])


def _accrue_co_financing(year_end: date, treasurer: User) -> None:
    """Book the ESF income earned up to the year's end and not yet booked, as a treasurer does
    before closing (the year-end refuses otherwise): for the demo, 2007's in-kind time."""
    from cofinancing.esf_income import accrue_esf_income, esf_entitlement
    from cofinancing.esf_ledger import esf_ledger
    from cofinancing.models import Project

    for project in Project.objects.filter(start__lte=year_end):
        if esf_entitlement(project, year_end) != esf_ledger(project, up_to=year_end).recognised:
            accrue_esf_income(project, actor=treasurer, up_to=year_end)


#: For each target state, the steps after creation (name of a World-like step).
PLAN: list[tuple[str, int]] = [
    ("draft", 2),
    ("submitted", 3),
    ("awaiting_ombud", 3),
    ("ombud_verified", 2),
    ("statutory_check", 3),
    ("referred", 2),
    ("ready_for_decision", 3),
    ("needs_completion", 2),
    ("approved", 3),
    ("rejected", 2),
    ("payout_scheduled", 2),
    ("paid", 2),
    ("closed", 3),
    ("withdrawn", 2),
]


class _Walker:
    """Moves one demo case forward with the right user at each step."""

    def __init__(self, users: dict[str, User]):
        self.u = users

    def run(self, app: Application, name: str, who: str, **data: Any) -> Application:
        return services.transition(app, actor=self.u[who], step=step_inputs.parse(name, data))

    def walk(self, app: Application, target: str) -> Application:
        steps: list[Callable[[Application], Application]] = [
            lambda a: self.run(a, "submit", "ombud"),
            lambda a: self.run(a, "request_attestation", "officer"),
            lambda a: self.run(a, "attest", "ombud", method="portal", need_confirmed=True),
            lambda a: self.run(a, "start_statutory_check", "officer"),
        ]
        order = ["draft", "submitted", "awaiting_ombud", "ombud_verified", "statutory_check"]
        special = {
            "needs_completion": ("submitted", "request_completion"),
            "withdrawn": ("submitted", "withdraw"),
        }
        if target in special:
            reach, step = special[target]
            app = self.walk(app, reach)
            if step == "request_completion":
                return self.run(app, step, "officer", message="Kvitto på kostnaden saknas.")
            return self.run(app, step, "ombud", reason="need_met_elsewhere")
        if target in order:
            for step_fn in steps[: order.index(target)]:
                app = step_fn(app)
            return app
        app = self.walk(app, "statutory_check")
        obliged = target == "referred"
        for item in app.items.all():
            services.record_statutory_assessment(
                item,
                actor=self.u["officer"],
                outcome=Obligation.OBLIGED if obliged else Obligation.NOT_OBLIGED,
                authority="social_services" if obliged else "",
                legal_basis=LegalBasis.SOL_4_1 if obliged else "",
                evidence_reference="Beslut 2026-0042" if obliged else "Avslag 2026-0117",
            )
        if obliged:
            return self.run(app, "refer", "officer")
        app = self.run(app, "clear", "officer")
        if target == "ready_for_decision":
            return app
        if target == "rejected":
            return self.run(app, "reject", "decider", reason="outside_purpose")
        app = self.run(app, "approve", "decider")
        if app.state != "approved":  # above the threshold: the second signature
            app = self.run(app, "approve", "decider2")
        if target == "approved":
            return app
        app = self.run(app, "schedule_payout", "treasurer")
        if target == "payout_scheduled":
            return app
        batch = batches.create_batch(actor=self.u["treasurer"], applications=[app])
        batches.approve_batch(batch, actor=self.u["treasurer2"])
        batches.export_batch(batch, actor=self.u["treasurer"])
        batches.mark_sent(batch, actor=self.u["treasurer"])
        app = self.run(app, "confirm_paid", "treasurer2")
        if target == "paid":
            return app
        if app.fund.follow_up_required:
            services.record_follow_up(app, actor=self.u["officer"], outcome="used_as_intended")
        return self.run(app, "close", "officer")


def seed(stdout: Callable[[str], Any] = print) -> int:
    """Create the demo; returns how many applications were created this time."""
    rng = random.Random(20151120)  # noqa: S311 - demo data, not security # nosec B311
    with transaction.atomic():
        users = {name: _user(name) for name in DEMO_USERS}
        funds = _funds()
        orgs = _organisations()
        for fund in funds.values():
            fund.handlers.add(
                users["officer"], users["officer2"], users["decider"], users["decider2"]
            )
        for username, org in (("ombud", orgs[0]), ("ombud2", orgs[1])):
            Ombud.objects.get_or_create(
                user=users[username],
                defaults={
                    "organisation": org,
                    "title": "Socialsekreterare",
                    "status": OmbudStatus.VERIFIED,
                    "verified_at": timezone.now(),
                    "verification_method": "Called back via the organisation's switchboard",
                },
            )
    from cofinancing.demo import seed_cofinancing

    seed_cofinancing(actor=users["treasurer"])
    if Application.objects.filter(ombud__user=users["ombud"]).exists():
        _close_demo_years(users, funds)
        stdout("Demo data already present; nothing to add.")
        return 0
    _money_and_payees(users, funds, orgs)
    walker = _Walker(users)
    created = 0
    protected_shown = False
    for target, count in PLAN:
        for _n in range(count):
            # One person with protected identity, whom a decision-maker lets the officer see.
            protected = target == "statutory_check" and not protected_shown
            code = rng.choice(list(funds))
            fund = funds[code]
            categories = fund.allowed_categories
            with transaction.atomic():
                person = services.register_beneficiary(
                    actor=users["ombud"],
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    personal_number=_personnummer(rng),
                    contact=f"07{rng.randrange(10**7, 10**8)}",
                    region=rng.choice(["AB", "O", "M", "C"]),
                    protected_identity=protected,
                )
                items = [
                    NeedInput(
                        category=rng.choice(categories),
                        amount=Decimal(rng.randrange(300, 9000, 50)),
                        description="Behov enligt ombudets beskrivning",
                    )
                    for _i in range(rng.randint(1, 3))
                ]
                app = services.create_application(
                    actor=users["ombud"], fund=fund, beneficiary=person, items=items
                )
                walker.walk(app, target)
                if protected:
                    grant_protected_access(
                        app,
                        actor=users["decider"],
                        grantee=users["officer"],
                        reason=ProtectedAccessReason.CASE_HANDLING,
                    )
                    protected_shown = True
            created += 1
    _close_demo_years(users, funds)  # after everything else books
    stdout(f"Created {created} demo applications in {len(PLAN)} states.")
    return created
