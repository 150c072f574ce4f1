"""Signing in as each role (with the second factor for staff) and a case in a known state."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

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
