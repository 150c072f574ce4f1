"""Signing in as each role (with the second factor for staff) and a case in a known state."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import OmbudFactory
from tests.fixtures import World
from web.access import needs_second_factor
from web.demo import DEMO_TOTP_KEY_HEX

ROLES = (
    "ombud",
    "other_ombud",
    "officer",
    "decision_maker",
    "treasurer",
    "auditor",
    "administrator",
)


def device_for(user: User) -> TOTPDevice:
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="test", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True}
    )
    return device


def sign_in(client: Client, user: User) -> Client:
    """Log in as ``user``; staff also pass the second factor, as the login page would.

    The pages then speak English, like the rest of the suite's specs (Swedish is tested
    where it matters, by switching the language).
    """
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    if needs_second_factor(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device_for(user).persistent_id
        session.save()
    return client


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
