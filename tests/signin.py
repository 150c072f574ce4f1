"""Signing in as a user in tests, with the second factor for staff as the login page asks."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from web.access import needs_second_factor
from web.demo import DEMO_TOTP_KEY_HEX

__all__ = ["device_for", "sign_in"]


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
