"""Hypothesis fuzz of the services: every input is accepted or refused in words; never a crash.

Each property calls one service with generated input. Either the call succeeds with a valid
result, or it raises the domain's own refusal (``ValidationFailed``, ``PermissionDenied``,
``ConflictError``, ``TransitionNotAvailable``) with a message for people — and then no row,
audit event, voucher or state changed. Any other exception fails the property.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_fsm import can_proceed
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from accounting import ledger
from accounting.models import Payee
from accounting.payees import create_payee
from core.roles import Role
from fund.lifecycle import TRANSITION_ROLES
from fund.models import NeedCategory
from tests.bad_input.conftest import Tally, attempt, tried
from tests.bad_input.strategies import amount, fuzz, junk, mostly, name, plausible_amount, text
from tests.factories import FundFactory
from workflows import services, step_inputs
from workflows.models import AttestationMethod, ClosingReason, ReasonCode
from workflows.services import HANDLERS, NeedInput, PayoutFailure

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("bad_input")]

FUZZ = fuzz(max_examples=100)

category = mostly(st.sampled_from(NeedCategory.values), text)


@tried(
    "create_application with generated need items: amounts as arbitrary text, NaN, inf, "
    "huge, negative, many decimals, floats, EUR; categories as arbitrary text; a fund "
    "with limits and one without"
)
@FUZZ
@given(
    items=st.lists(
        st.tuples(category, mostly(plausible_amount, amount), mostly(name, text)),
        min_size=1,
        max_size=3,
    ),
    limited=st.booleans(),
)
def test_application_items_are_accepted_or_refused_in_words(world, tally: Tally, items, limited):
    """Applications with generated need items are saved whole or refused with the reasons"""
    fund = world.fund if limited else FundFactory(code="open-fund", name="Utan gränser")
    person = services.register_beneficiary(actor=world.ombud.user, name="Fuzz Person")
    needs = [NeedInput(category=c, amount=a, description=d) for c, a, d in items]

    app = attempt(
        tally,
        lambda: services.create_application(
            actor=world.ombud.user, fund=fund, beneficiary=person, items=needs
        ),
    )
    if app is not None:
        for item in app.items.all():
            value = item.requested_amount.amount
            assert value > 0 and value == value.quantize(Decimal("0.01"))
            assert str(item.requested_amount.currency) == "SEK"


@tried(
    "register_beneficiary with generated name, personnummer, contact, region (arbitrary "
    "Unicode, NUL, 20 000 characters, digits of other scripts)"
)
@FUZZ
@given(
    person=mostly(name, text),
    number=mostly(st.sampled_from(["", "19811218-9876", "811218-9876", "198112189876"]), text),
    contact=mostly(name, text),
    region=mostly(st.sampled_from(["", "AB", "o", "BD", " m "]), text),
    protected=st.one_of(st.booleans(), junk),
)
def test_people_are_registered_or_refused_in_words(
    world, tally: Tally, person, number, contact, region, protected
):
    """People with generated personal data are registered or refused with the reasons"""
    attempt(
        tally,
        lambda: services.register_beneficiary(
            actor=world.ombud.user,
            name=person,
            personal_number=number,
            contact=contact,
            region=region,
            protected_identity=protected,
        ),
    )


@pytest.fixture
def cases(world):  # type: ignore[no-untyped-def]
    """Cases in draft, awaiting_ombud, statutory_check, ready_for_decision, approved and
    payout_scheduled."""
    draft = world.new_application("900")
    awaiting = world.run(world.new_application("800"), "submit", world.ombud.user)
    awaiting = world.run(awaiting, "request_attestation", world.officer)
    check = world.to_statutory_check(world.new_application("700", "300"))
    ready = world.to_decision(world.new_application("600", "200"))
    approved = world.to_approved(world.new_application("500"))
    scheduled = world.to_approved(world.new_application("400"))
    scheduled = world.run(scheduled, "schedule_payout", world.treasurer)
    return [draft, awaiting, check, ready, approved, scheduled]


#: The inputs each step reads (the others ignore theirs).
STEP_INPUTS = {
    "attest": ("method", "need_confirmed"),
    "decline_attestation": ("reason",),
    "withdraw": ("reason",),
    "payout_failed": ("reason",),
    "request_completion": ("message",),
    "approve": ("items", "reason"),
    "approve_partly": ("items", "reason"),
    "reject": ("items", "reason"),
    "schedule_payout": ("payee", "payees"),
}


def _step_payload(data, case, name, payees):  # type: ignore[no-untyped-def]
    """The inputs the step reads: each plausible, or anything at all."""
    items = [item.pk for item in case.items.all()]
    codes = [*ClosingReason.values, *ReasonCode.values, *PayoutFailure.values]
    decided = st.fixed_dictionaries(
        {"item": st.one_of(st.sampled_from(items), junk), "amount": amount},
        optional={"reason": st.one_of(st.sampled_from(ReasonCode.values), junk)},
    )
    inputs = {
        "method": st.sampled_from(AttestationMethod.values),
        "need_confirmed": st.just(True),
        "reason": st.sampled_from(codes),
        "message": text,
        "items": st.lists(decided, max_size=3),
        "payee": st.sampled_from(payees),
        "payees": st.dictionaries(st.sampled_from(items), st.sampled_from(payees), max_size=2),
    }
    return data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                key: st.one_of(inputs[key], junk, st.lists(junk, min_size=1, max_size=2))
                for key in STEP_INPUTS.get(name, ())
            },
        )
    )


def _users(world):  # type: ignore[no-untyped-def]
    return {
        Role.OMBUD: [world.ombud.user],
        Role.OFFICER: [world.officer, world.officer2],
        Role.DECISION_MAKER: [world.decider, world.decider2],
        Role.TREASURER: [world.treasurer, world.treasurer2],
        Role.AUDITOR: [world.auditor],
        Role.ADMINISTRATOR: [world.admin],
    }


@tried(
    "workflows.services.transition() with any step name (the 18 steps, arbitrary text) by "
    "any user on cases in six states"
)
@FUZZ
@given(data=st.data(), name=st.one_of(st.sampled_from(sorted(HANDLERS)), text))
def test_any_step_by_anyone_runs_or_is_refused_in_words(world, cases, tally: Tally, data, name):
    """Any step name, by any user, on a case in any state: run or refused in words"""
    case = data.draw(st.sampled_from(cases))
    actor = data.draw(st.sampled_from([u for group in _users(world).values() for u in group]))
    attempt(tally, lambda: services.transition(case, actor=actor, step=step_inputs.parse(name)))


@tried(
    "workflows.services.transition() for every step a case can take now, by a user entitled "
    "to it, with generated payloads (method, need_confirmed, reason, message, items, payee, "
    "payees: plausible, or any JSON-like value)"
)
@FUZZ
@given(data=st.data())
def test_step_payloads_are_used_or_refused_in_words(world, cases, tally: Tally, data):
    """Generated payloads for the steps a case can take: used or refused in words"""
    steps = [
        (case, name)
        for case in cases
        for name in HANDLERS
        if can_proceed(getattr(case, name), check_conditions=False)
    ]
    case, name = data.draw(st.sampled_from(steps))
    users = _users(world)
    actor = data.draw(st.sampled_from([u for r in TRANSITION_ROLES[name] for u in users[r]]))
    payees = list(Payee.objects.values_list("pk", flat=True))
    payload = _step_payload(data, case, name, payees)

    attempt(
        tally, lambda: services.transition(case, actor=actor, step=step_inputs.parse(name, payload))
    )


@tried(
    "record_statutory_assessment with generated outcome, authority, legal basis, evidence "
    "reference and remainder amount"
)
@FUZZ
@given(
    outcome=mostly(st.sampled_from(["obliged", "not_obliged", "partly"]), text),
    authority=mostly(st.sampled_from(["social_services", "mmm", ""]), text),
    legal_basis=mostly(st.sampled_from(["sol_4_1", "lma_17", "mmm", ""]), text),
    evidence=mostly(name, text),
    remainder=mostly(plausible_amount, amount),
)
def test_assessments_are_recorded_or_refused_in_words(
    world, cases, tally: Tally, outcome, authority, legal_basis, evidence, remainder
):
    """Statutory assessments with generated fields are recorded or refused in words"""
    item = cases[2].items.order_by("position").first()
    attempt(
        tally,
        lambda: services.record_statutory_assessment(
            item,
            actor=world.officer,
            outcome=outcome,
            authority=authority,
            legal_basis=legal_basis,
            evidence_reference=evidence,
            grantable_amount=remainder,
        ),
    )


def _with_check_digit(number: int) -> str:
    digits = str(number)
    return digits + luhn.calc_check_digit(digits)


account_text = st.one_of(
    text,
    st.from_regex(r"\A[0-9 -]{2,12}\Z"),
    st.integers(10**5, 10**7 - 1).map(_with_check_digit),
    st.integers(10**5, 10**7 - 1).map(_with_check_digit),
    st.sampled_from(
        [
            "5678-1230",
            "991-2346",
            "9020025",
            "123456703",
            "SE3250000000000058398250",
            "GB82WEST12345698765432",
            "SE32 5000 0000 0000 5839 8250",
        ]
    ),
)


@tried(
    "create_payee with generated kind, method, account (Bankgiro, Plusgiro, clearing + "
    "account, IBAN as garbage text or near-valid digits), BIC and names"
)
@FUZZ
@given(
    kind=mostly(st.sampled_from(["supplier", "organisation"]), st.just("person") | text),
    method=mostly(st.sampled_from(["bankgiro", "plusgiro", "bank_account", "iban"]), text),
    account=account_text,
    clearing=mostly(st.sampled_from(["6789", "8327-9", "3300", ""]), text),
    bic=mostly(st.sampled_from(["ESSESESS", "NDEASESSXXX", ""]), text),
    payee_name=mostly(name, text),
    person_name=mostly(name, text),
)
def test_payees_are_registered_or_refused_in_words(
    world, tally: Tally, kind, method, account, clearing, bic, payee_name, person_name
):
    """Payees with generated account numbers are registered or refused in words"""
    payee = attempt(
        tally,
        lambda: create_payee(
            actor=world.treasurer,
            kind=kind,
            method=method,
            account=account,
            clearing_number=clearing,
            bic=bic,
            name=payee_name,
            person_name=person_name,
            organisation=world.ombud.organisation,
        ),
    )
    if payee is not None:
        account = payee.destination().account
        assert account.isascii() and account.isalnum()


@tried("record_income with generated amount, kind and reference")
@FUZZ
@given(
    value=mostly(plausible_amount, amount),
    kind=mostly(st.sampled_from(["donation", "grant_eu", "restricted_capital"]), text),
    reference=mostly(st.from_regex(r"[A-Za-z]{2,6}[-/ ]?[0-9]{1,8}", fullmatch=True), text),
)
def test_income_is_booked_or_refused_in_words(world, tally: Tally, value, kind, reference):
    """Income with generated amounts and references is booked balanced or refused in words"""
    voucher = attempt(
        tally,
        lambda: ledger.record_income(
            world.fund, value, kind=kind, actor=world.treasurer, reference=reference
        ),
    )
    if voucher is not None:
        assert sum(p.amount.amount for p in voucher.postings.all()) == 0
