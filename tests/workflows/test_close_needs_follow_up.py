"""Issue #20: a case in a fund that requires follow-up offers no close step before it."""

from __future__ import annotations

import pytest

from workflows import services

pytestmark = pytest.mark.django_db


def test_close_is_not_offered_before_the_follow_up_the_fund_requires(world):
    world.fund.follow_up_required = True
    world.fund.save(update_fields=["follow_up_required"])
    app = world.to_paid(world.new_application("1000"))

    before = services.available_transitions(app, actor=world.officer)
    services.record_follow_up(app, actor=world.officer, outcome="used_as_intended")
    after = services.available_transitions(app, actor=world.officer)

    assert "close" not in before
    assert "close" in after


def test_close_is_offered_at_once_in_a_fund_without_follow_up(world):
    app = world.to_paid(world.new_application("1000"))

    assert "close" in services.available_transitions(app, actor=world.officer)
