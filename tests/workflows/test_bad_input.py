"""Bad input is refused with a clear error and changes nothing."""

from decimal import Decimal

import pytest
from moneyed import Money

from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from fund.models import Application, Beneficiary, NeedItem
from workflows import services
from workflows.services import NeedInput

pytestmark = pytest.mark.evidence("bad_input")


def _create(world, *items, fund=None):
    person = services.register_beneficiary(actor=world.ombud.user, name="Person Test")
    return services.create_application(
        actor=world.ombud.user, fund=fund or world.fund, beneficiary=person, items=list(items)
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "at most two decimals"),
        ("-100", "greater than zero"),
        ("0", "greater than zero"),
        ("tusen", "is not an amount"),
        ("NaN", "not an amount"),
        (Money("100", "EUR"), "only SEK"),
        ("25000", "limit of"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_saved(world, amount, message):
    before = (Application.objects.count(), NeedItem.objects.count())
    with pytest.raises(ValidationFailed, match=message):
        _create(world, NeedInput(category="glasses", amount=amount))
    assert (Application.objects.count(), NeedItem.objects.count()) == before


def test_unknown_and_disallowed_categories_are_refused(world):
    world.fund.allowed_categories = ["glasses"]
    world.fund.save()
    with pytest.raises(ValidationFailed) as refused:
        _create(
            world,
            NeedInput(category="yacht", amount="100"),
            NeedInput(category="housing", amount="100"),
        )
    text = " ".join(refused.value.messages)
    assert "“yacht” is not a known need category" in text
    assert "does not grant support for “Housing”" in text


def test_every_problem_is_listed_at_once(world):
    with pytest.raises(ValidationFailed) as refused:
        _create(
            world,
            NeedInput(category="glasses", amount="1.001"),
            NeedInput(category="nope", amount="-5"),
        )
    assert len(refused.value.messages) == 3


def test_total_over_application_limit_is_refused(world):
    with pytest.raises(ValidationFailed, match="per application"):
        _create(world, *[NeedInput(category="food", amount="15000") for _ in range(4)])


def test_an_application_needs_items(world):
    with pytest.raises(ValidationFailed, match="at least one need item"):
        _create(world)


def test_amounts_are_quantised_to_ore(world):
    app = _create(world, NeedInput(category="glasses", amount="1 250,50"))
    assert app.items.get().requested_amount.amount == Decimal("1250.50")


def test_invalid_personnummer_is_refused_and_nobody_is_registered(world):
    before = (Beneficiary.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed, match="personal identity number"):
        services.register_beneficiary(
            actor=world.ombud.user, name="X", personal_number="19811218-9877"
        )
    assert (Beneficiary.objects.count(), AuditEvent.objects.count()) == before


def test_decision_amount_with_three_decimals_is_refused(world):
    app = world.to_decision(world.new_application("1000"))
    item = app.items.get()
    with pytest.raises(ValidationFailed, match="two decimals"):
        world.run(
            app, "approve_partly", world.decider, items=[{"item": item.pk, "amount": "10.005"}]
        )
    assert not app.decisions.exists()


def test_unknown_transition_name_is_refused(world):
    app = world.new_application("100")
    with pytest.raises(Exception, match="no step called"):
        world.run(app, "teleport", world.officer)


def test_amounts_in_messages_are_written_the_swedish_way(world):
    from django.utils import translation

    with translation.override("sv"), pytest.raises(ValidationFailed) as refused:
        _create(world, NeedInput(category="glasses", amount="25000"))
    assert "25\u00a0000,00\u00a0kr" in refused.value.messages[0]
    assert "20\u00a0000,00\u00a0kr" in refused.value.messages[0]
