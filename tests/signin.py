"""Signing in as a user in tests, with the second factor for staff as the login page asks."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from api.services import issue_token
from web.access import needs_second_factor
from web.demo import DEMO_TOTP_KEY_HEX

__all__ = ["api_client", "device_for", "sign_in"]


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


def api_client(user: User) -> APIClient:
    """An API client with a real token for ``user``, answering in English; throttles reset."""
    cache.clear()
    _token, plain = issue_token(user, label="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client
