"""Signing in (TOTP for staff), throttling, sessions, CSRF, CSP and the language switch."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from tests.fixtures import World
from tests.signin import device_for, sign_in

PASSWORD = "a-long-test-password"  # tests.factories.UserFactory


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def code_for(user: Any) -> str:
    return f"{totp(device_for(user).bin_key):06d}"


def login(client: Client, username: str, password: str = PASSWORD, code: str = "") -> Any:
    return client.post(
        reverse("web:login"), {"username": username, "password": password, "otp_token": code}
    )


def test_an_ombud_signs_in_with_a_password_and_lands_in_the_portal(world: World) -> None:
    client = Client()
    response = login(client, world.ombud.user.username)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:ombud_home")
    assert client.get(reverse("web:ombud_home")).status_code == 200


def test_staff_need_a_one_time_code(world: World, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp also slows down guessing; not tested here
    client = english()
    device_for(world.officer)
    response = login(client, world.officer.username)
    assert response.status_code == 400
    assert b"one-time code" in response.content
    assert client.get(reverse("web:worklist"))["Location"].startswith(reverse("web:login"))

    response = login(client, world.officer.username, code="000000")
    assert response.status_code == 400

    response = login(client, world.officer.username, code=code_for(world.officer))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:worklist")
    assert client.get(reverse("web:worklist")).status_code == 200


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(world: World) -> None:
    response = login(english(), world.ombud.user.username, password="wrong-password")
    assert response.status_code == 400
    assert b"user name or password is wrong" in response.content


def test_after_five_failures_even_the_right_password_is_locked_out(world: World) -> None:
    client = english()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, world.ombud.user.username, password="wrong-password")
    response = login(client, world.ombud.user.username)
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert client.get(reverse("web:ombud_home")).status_code == 302


def test_failed_one_time_codes_count_towards_the_lockout(world: World) -> None:
    client = Client()
    device_for(world.officer)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, world.officer.username, code="000000")
    response = login(client, world.officer.username, code=code_for(world.officer))
    assert response.status_code == 429


def test_login_only_redirects_to_this_site(world: World) -> None:
    client = Client()
    response = client.post(
        reverse("web:login") + "?next=https://evil.example/",
        {"username": world.ombud.user.username, "password": PASSWORD},
    )
    assert response["Location"] == reverse("web:ombud_home")


def test_sessions_expire_when_idle_and_at_browser_close() -> None:
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_forms_refuse_posts_without_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, world.officer)
    response = client.post(reverse("web:worklist_bulk"), {"action": "assign"})
    assert response.status_code == 403
    response = Client(enforce_csrf_checks=True).post(
        reverse("web:login"), {"username": "x", "password": "y"}
    )
    assert response.status_code == 403


def test_pages_send_a_content_security_policy_without_inline_code(world: World) -> None:
    client = sign_in(Client(), world.officer)
    app = world.new_application("1200")
    pages = [(Client(), reverse("web:login"))]
    for url in (
        reverse("web:worklist"),
        reverse("web:application", args=[app.reference]),
        reverse("web:dashboard"),
    ):
        pages.append((client, url))
    for who, url in pages:
        response = who.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {url}"
        assert not re.search(r"<style\b", html), f"style element on {url}"
        assert not re.search(r"\sstyle=", html), f"style attribute on {url}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {url}"
        assert "https://" not in html.split("<body", 1)[0], "nothing from a CDN"


def test_static_files_are_served_by_whitenoise() -> None:
    response = Client().get("/static/web/app.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("world")
def test_the_site_speaks_swedish_by_default_and_english_on_request() -> None:
    client = Client()
    with_sv = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="")
    assert 'lang="sv"' in with_sv.content.decode()
    assert "Logga in" in with_sv.content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    english = client.get(reverse("web:login")).content.decode()
    assert 'lang="en"' in english
    assert "Sign in" in english


def test_signing_out_ends_the_session(world: World) -> None:
    client = sign_in(Client(), world.officer)
    assert client.get(reverse("web:worklist")).status_code == 200
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(reverse("web:worklist")).status_code == 302
