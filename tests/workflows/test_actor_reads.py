"""The actor's roles, funds and ombud status are read once per step, and again at the next.

A transition (and a page's buttons) reads who the actor is once for all its checks; the next
transition reads it again, so a membership removed or a role revoked in between counts at
once, even when the same user object is passed (as a long-running task or a test does).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from core.exceptions import PermissionDenied
from fund.models import Ombud, OmbudStatus
from fund.services import set_ombud_status
from tests.fixtures import World
from workflows import services


def test_fund_membership_removed_between_two_transitions_refuses_the_second(
    world: World,
) -> None:
    first = world.run(world.new_application("500"), "submit", world.ombud.user)
    second = world.run(world.new_application("600"), "submit", world.ombud.user)
    world.run(first, "request_attestation", world.officer)
    world.fund.handlers.remove(world.officer)
    with pytest.raises(PermissionDenied):
        world.run(second, "request_attestation", world.officer)


def test_fund_membership_removed_takes_the_buttons_away_at_once(world: World) -> None:
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    assert "request_attestation" in services.available_transitions(app, actor=world.officer)
    world.fund.handlers.remove(world.officer)
    assert services.available_transitions(app, actor=world.officer) == []


def test_role_revoked_between_two_requests_refuses_the_next(world: World) -> None:
    first = world.run(world.new_application("500"), "submit", world.ombud.user)
    second = world.run(world.new_application("600"), "submit", world.ombud.user)
    world.run(first, "request_attestation", User.objects.get(pk=world.officer.pk))
    world.officer.groups.remove(Group.objects.get(name="officer"))
    with pytest.raises(PermissionDenied):
        world.run(second, "request_attestation", User.objects.get(pk=world.officer.pk))


def test_ombud_revoked_between_two_transitions_refuses_the_second(world: World) -> None:
    first = world.new_application("500")
    second = world.new_application("600")
    world.run(first, "submit", world.ombud.user)
    set_ombud_status(
        Ombud.objects.get(pk=world.ombud.pk), actor=world.admin, status=OmbudStatus.REVOKED
    )
    with pytest.raises(PermissionDenied):
        world.run(second, "submit", world.ombud.user)
