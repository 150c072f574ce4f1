"""A refused sign-in says nothing about which part was wrong (issue #18, "Failing well")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.fixtures import World
from tests.signin import device_for

PASSWORD = "a-long-test-password"  # tests.factories.UserFactory
CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def refused(username: str, password: str, code: str) -> Any:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(
        reverse("web:login"), {"username": username, "password": password, "otp_token": code}
    )


def page_without_csrf_token(response: Any) -> bytes:
    return CSRF_TOKEN.sub(b"", response.content)


@pytest.mark.evidence("security")
def test_a_right_password_without_its_code_is_refused_like_a_wrong_password(
    world: World, settings: Any, evidence: Any
) -> None:
    """A guesser cannot tell a right password from a wrong one by the answer."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device_for(world.officer)
    user = world.officer.username
    answers = {
        "wrong password, no code": refused(user, "wrong-password", ""),
        "right password, no code": refused(user, PASSWORD, ""),
        "wrong password, a wrong code": refused(user, "wrong-password", "000000"),
        "right password, a wrong code": refused(user, PASSWORD, "000000"),
    }
    for tried, response in answers.items():
        evidence.row(tried=f"staff sign-in: {tried}", outcome=str(response.status_code))
    pages = {tried: page_without_csrf_token(response) for tried, response in answers.items()}
    assert {response.status_code for response in answers.values()} == {400}
    # The same page for the same input, whether the password was right or not.
    assert pages["right password, no code"] == pages["wrong password, no code"]
    assert pages["right password, a wrong code"] == pages["wrong password, a wrong code"]
    assert b"Wrong user name, password or one-time code." in pages["right password, no code"]


def test_the_refusal_reads_the_same_in_swedish(world: World) -> None:
    device_for(world.officer)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    response = client.post(
        reverse("web:login"),
        {"username": world.officer.username, "password": PASSWORD, "otp_token": ""},
    )
    assert "Fel användarnamn, lösenord eller engångskod." in response.content.decode()


def test_a_right_password_without_its_code_counts_towards_the_lockout(world: World) -> None:
    device_for(world.officer)
    client = Client()
    post = {"username": world.officer.username, "password": PASSWORD, "otp_token": ""}
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        assert client.post(reverse("web:login"), post).status_code in (400, 429)
    assert client.post(reverse("web:login"), post).status_code == 429
