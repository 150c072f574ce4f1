"""Hypothesis fuzz of the web forms: whatever is posted, never a server error, never a half change.

Each page's form gets generated data (any Unicode, control characters, NUL bytes, 20 000
characters, numbers in other scripts, extra and missing fields), posted through the Django
test client by a user of the right role. The answer is a page (200/400) or a redirect (302);
when nothing changed, the user is told why (a form error or an error message); when
something changed, it was a valid request and the user is told so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from fund.models import NeedCategory
from tests.bad_input.conftest import Tally, snapshot
from tests.bad_input.strategies import bad_id, bad_url, fuzz, mostly, name, plausible_amount, text
from tests.signin import sign_in
from workflows.models import ClosingReason, DecisionOutcome, Obligation, ReasonCode

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("bad_input")]

FUZZ = fuzz(max_examples=30)

#: What a form field may be sent: a value of the right kind, or any text at all.
field_text = mostly(name, text)


def choice(values: list[str]) -> st.SearchStrategy[str]:
    return mostly(st.sampled_from(values), text)


@dataclass(frozen=True)
class Page:
    """A form on a page: who posts it, where, and the data to generate."""

    role: str
    url: Callable[[Any], str]
    data: Callable[[Any], st.SearchStrategy[dict[str, Any]]]
    method: str = "post"


def _need_rows(_cases: Any) -> st.SearchStrategy[dict[str, Any]]:
    row = st.fixed_dictionaries(
        {
            "category": choice(["", *NeedCategory.values]),
            "description": field_text,
            "amount": mostly(plausible_amount, text),
        }
    )
    return st.builds(
        lambda fund, person, rows, total, submit: {
            "fund": fund,
            **{f"person-{k}": v for k, v in person.items()},
            "need-TOTAL_FORMS": total if total is not None else str(len(rows)),
            "need-INITIAL_FORMS": "0",
            **{f"need-{n}-{k}": v for n, r in enumerate(rows) for k, v in r.items()},
            **({"submit_now": "1"} if submit else {}),
        },
        fund=mostly(st.just("FUND"), bad_id),
        person=st.fixed_dictionaries(
            {"name": field_text},
            optional={
                "personal_number": mostly(st.just("19811218-9876"), text),
                "contact": field_text,
                "region": choice(["AB", "O", ""]),
                "protected_identity": st.sampled_from(["on", "", "x"]),
            },
        ),
        rows=st.lists(row, min_size=1, max_size=3),
        total=st.one_of(st.none(), st.none(), text),
        submit=st.booleans(),
    )


def _decision(cases: Any) -> st.SearchStrategy[dict[str, Any]]:
    items = [item.pk for item in cases["ready"].items.all()]
    return st.fixed_dictionaries(
        {"outcome": st.sampled_from(DecisionOutcome.values)},
        optional={
            "reason": choice(ReasonCode.values),
            **{f"amount_{pk}": mostly(plausible_amount, text) for pk in items},
            **{f"reason_{pk}": choice(ReasonCode.values) for pk in items},
        },
    )


def _assessment(cases: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Every item of the case in one form (issue #19), each under its own prefix."""
    fields: dict[str, Any] = {}
    for item in cases["check"].items.all():
        prefix = f"item{item.pk}"
        fields.update(
            {
                f"{prefix}-outcome": choice(Obligation.values),
                f"{prefix}-authority": choice(["social_services", "mmm", ""]),
                f"{prefix}-legal_basis": mostly(
                    choice(["sol_4_1", "lma_17", "mmm", ""]), field_text
                ),
                f"{prefix}-evidence_reference": field_text,
                f"{prefix}-grantable_amount": mostly(plausible_amount, text),
            }
        )
    return st.fixed_dictionaries({}, optional=fields)


def _verdicts(cases: Any) -> st.SearchStrategy[dict[str, Any]]:
    """The one decision form (issue #19): a verdict, amount and reason per item."""
    fields: dict[str, Any] = {}
    for item in cases["ready"].items.all():
        prefix = f"item{item.pk}"
        fields.update(
            {
                f"{prefix}-verdict": choice(["approve", "reduce", "reject"]),
                f"{prefix}-amount": mostly(plausible_amount, text),
                f"{prefix}-reason": choice(ReasonCode.values),
                f"{prefix}-reason_text": field_text,
            }
        )
    return st.fixed_dictionaries({}, optional=fields)


def _case_url(key: str, step: str) -> Callable[[Any], str]:
    return lambda cases: f"/applications/{cases[key].reference}/steps/{step}/"


PAGES = {
    "ombud: new application (person + need items)": Page(
        "ombud", lambda cases: "/ombud/new/", _need_rows
    ),
    "ombud: attest": Page(
        "ombud",
        _case_url("awaiting", "attest"),
        lambda _c: st.fixed_dictionaries(
            {"method": choice(["portal", "signed_form"])},
            optional={"need_confirmed": st.sampled_from(["on", "", "false", "\x00"])},
        ),
    ),
    "ombud: decline attestation": Page(
        "ombud",
        _case_url("awaiting", "decline_attestation"),
        lambda _c: st.fixed_dictionaries({"reason": choice(ClosingReason.values)}),
    ),
    "officer: request komplettering": Page(
        "officer",
        _case_url("check", "request_completion"),
        lambda _c: st.fixed_dictionaries({"message": field_text}),
    ),
    "officer: statutory assessment of every item": Page(
        "officer",
        lambda cases: f"/applications/{cases['check'].reference}/assessment/",
        _assessment,
    ),
    "decision-maker: one decision form, a verdict per item": Page(
        "decider", lambda cases: f"/applications/{cases['ready'].reference}/decision/", _verdicts
    ),
    "decision-maker: decision with amounts per item": Page("decider", lambda cases: "", _decision),
    "treasurer: payout failed": Page(
        "treasurer",
        _case_url("scheduled", "payout_failed"),
        lambda _c: st.fixed_dictionaries({"reason": choice(["account_closed", "other"])}),
    ),
    "officer: worklist bulk action": Page(
        "officer",
        lambda cases: "/worklist/bulk/",
        lambda cases: st.fixed_dictionaries(
            {
                "action": choice(["assign", "request_attestation"]),
                "applications": st.lists(
                    mostly(st.sampled_from([cases["draft"].reference]), text), max_size=2
                ),
            },
            optional={
                "officer": mostly(st.just("OFFICER"), bad_id),
                "back": mostly(st.just("/worklist/?state=all"), bad_url),
            },
        ),
    ),
    "officer: worklist filters (GET)": Page(
        "officer",
        lambda cases: "/worklist/",
        lambda _c: st.fixed_dictionaries(
            {},
            optional={
                "fund": mostly(st.just("FUND"), bad_id),
                "state": choice(["", "all", "draft"]),
                "officer": choice(["", "none"]),
                "waiting": mostly(st.integers(-5, 5000).map(str), bad_id),
                "sort": choice(["waiting", "-reference"]),
                "page": mostly(st.integers(1, 3).map(str), bad_id),
            },
        ),
        method="get",
    ),
    "treasurer: new batch from chosen orders": Page(
        "treasurer",
        lambda cases: "/treasury/batches/new/",
        lambda _c: st.fixed_dictionaries(
            {"orders": st.lists(mostly(st.just("ORDER"), bad_id), max_size=3)}
        ),
    ),
    "treasurer: accounting export": Page(
        "treasurer",
        lambda cases: "/treasury/exports/",
        lambda _c: st.fixed_dictionaries(
            {
                "kind": choice(["sie4", "sie4i", "ledger_csv"]),
                "year": mostly(st.integers(1990, 2110).map(str), text),
            }
        ),
    ),
}


@pytest.fixture
def cases(world):  # type: ignore[no-untyped-def]
    draft = world.new_application("900")
    awaiting = world.run(world.new_application("800"), "submit", world.ombud.user)
    awaiting = world.run(awaiting, "request_attestation", world.officer)
    check = world.to_statutory_check(world.new_application("700"))
    ready = world.to_decision(world.new_application("600", "200"))
    scheduled = world.to_approved(world.new_application("400"))
    scheduled = world.run(scheduled, "schedule_payout", world.treasurer)
    world.send_payouts(scheduled)
    unbatched = world.to_approved(world.new_application("300"))
    unbatched = world.run(unbatched, "schedule_payout", world.treasurer)
    return {
        "unbatched": unbatched,
        "draft": draft,
        "awaiting": awaiting,
        "check": check,
        "ready": ready,
        "scheduled": scheduled,
    }


def _real(value: Any, world: Any, cases: Any) -> Any:
    """Placeholders for ids the strategies cannot know: the fund, the officer, an order."""
    ids = {
        "FUND": world.fund.pk,
        "OFFICER": world.officer2.pk,
        "ORDER": cases["unbatched"].payment_orders.first().pk,
    }
    return str(ids[value]) if isinstance(value, str) and value in ids else value


def _told(response: Any) -> str:
    """What the answer tells the user: an error message, or a form error on the page."""
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    if errors:
        return errors[0]
    content = response.content.decode(errors="replace")
    for found in re.findall(r'class="field-error"[^>]*>(.*?)</', content, re.S):
        if re.sub(r"<[^>]+>", "", found).strip():
            return re.sub(r"<[^>]+>", "", found).strip()
    # The problem summary at the top of a refused form (issue #19): its first entry.
    summary = re.search(r'class="error-summary".*?<li>(.*?)</li>', content, re.S)
    return re.sub(r"<[^>]+>", "", summary.group(1)).strip() if summary else ""


@pytest.mark.parametrize("page", list(PAGES))
@FUZZ
@given(data=st.data())
def test_forms_answer_every_input_without_a_server_error(
    world, cases, client, tally: Tally, page, data
):  # type: ignore[no-untyped-def]
    """Web forms with generated input: a page or a redirect, never a 500 or a half change"""
    spec = PAGES[page]
    user = {
        "ombud": world.ombud.user,
        "officer": world.officer,
        "decider": world.decider,
        "treasurer": world.treasurer,
    }[spec.role]
    if "_auth_user_id" not in client.session:
        sign_in(client, user)
    url = spec.url(cases) or f"/applications/{cases['ready'].reference}/steps/"
    form = data.draw(spec.data(cases))
    if "outcome" in form and spec.role == "decider":
        url += f"{form.pop('outcome')}/"
    form = {
        k: [_real(x, world, cases) for x in v] if isinstance(v, list) else _real(v, world, cases)
        for k, v in form.items()
    }
    before = snapshot()
    with transaction.atomic():
        response = getattr(client, spec.method)(url, form)
        changed = snapshot() != before
        transaction.set_rollback(True)
    status = response.status_code
    assert status in (200, 302, 400), f"{status} for {form!r}"
    if status == 302:
        location = response["Location"]
        assert location.startswith("/") and not location.startswith("//"), location
    tally.tried = (
        f"web form “{page}” ({spec.method.upper()} as {spec.role}): generated values, any "
        "Unicode, control characters, NUL, 20 000 characters, ids and URLs that are none"
    )
    if changed or spec.method == "get":
        tally.accepted += 1
        return
    told = _told(response)
    assert told, f"refused without a word: {form!r}"
    tally.count_refusal(f"{status} with the reason", told)
