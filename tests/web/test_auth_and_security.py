"""Signing in (TOTP for staff), throttling, sessions, CSRF, CSP and the language switch."""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.crypto import get_random_string
from django_otp.oath import totp

from api.services import issue_token
from tests.factories import UserFactory
from tests.fixtures import World
from tests.signin import device_for, sign_in
from tests.web.test_permissions import AS_TYPED, OK, PAGES, outcome

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


@pytest.mark.evidence("security")
def test_staff_need_a_one_time_code(world: World, settings: Any, evidence: Any) -> None:
    """Staff sign in with password and a TOTP code; the password alone opens nothing."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # throttling: test_one_time_codes_are_throttled...
    client = english()
    device_for(world.officer)
    response = login(client, world.officer.username)
    evidence.row(tried="officer: right password, no code", outcome=str(response.status_code))
    assert response.status_code == 400
    assert b"one-time code" in response.content
    assert client.get(reverse("web:worklist"))["Location"].startswith(reverse("web:login"))

    response = login(client, world.officer.username, code="000000")
    evidence.row(tried="officer: right password, wrong code", outcome=str(response.status_code))
    assert response.status_code == 400

    response = login(client, world.officer.username, code=code_for(world.officer))
    evidence.row(
        tried="officer: right password, right code",
        outcome=f"{response.status_code} to {response['Location']}",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:worklist")
    assert client.get(reverse("web:worklist")).status_code == 200


@pytest.mark.evidence("security")
def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    world: World, evidence: Any
) -> None:
    """A wrong password is refused with one message for user name and password alike."""
    response = login(english(), world.ombud.user.username, password="wrong-password")
    unknown = login(english(), "no-such-user", password="wrong-password")
    evidence.row(tried="a wrong password", outcome=str(response.status_code))
    evidence.row(tried="an unknown user name", outcome=str(unknown.status_code))
    assert response.status_code == unknown.status_code == 400
    assert b"Wrong user name, password or one-time code." in unknown.content
    assert b"Wrong user name, password or one-time code." in response.content


@pytest.mark.evidence("security")
def test_after_five_failures_even_the_right_password_is_locked_out(
    world: World, evidence: Any
) -> None:
    """Brute force: after 5 wrong passwords even the right one is refused (django-axes)."""
    client = english()
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = login(client, world.ombud.user.username, password="wrong-password")
        evidence.row(tried=f"wrong password #{attempt}", outcome=str(response.status_code))
    response = login(client, world.ombud.user.username)
    evidence.row(tried="then the right password", outcome=str(response.status_code))
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert client.get(reverse("web:ombud_home")).status_code == 302
    # Any other way of authenticating meets the same lockout (axes' backend).
    request = RequestFactory().post(reverse("web:login"))
    user = authenticate(request, username=world.ombud.user.username, password=PASSWORD)
    evidence.row(tried="authenticate() with the right password", outcome=f"{user}")
    assert user is None


@pytest.mark.evidence("security")
def test_failed_one_time_codes_count_towards_the_lockout(world: World, evidence: Any) -> None:
    """Wrong one-time codes count as failed sign-ins: five of them lock the user name out."""
    client = Client()
    device_for(world.officer)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, world.officer.username, code="000000")
    response = login(client, world.officer.username, code=code_for(world.officer))
    evidence.row(
        tried=f"{settings.AXES_FAILURE_LIMIT} wrong codes, then the right password and code",
        outcome=str(response.status_code),
    )
    assert response.status_code == 429


@pytest.mark.evidence("security")
def test_one_time_codes_are_throttled_and_cannot_be_replayed(
    world: World, settings: Any, evidence: Any
) -> None:
    """After a wrong code the right one waits (django-otp throttling); a used code is spent."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # the first wait: 60 s, doubling after each failure
    device_for(world.officer)
    client = english()
    response = login(client, world.officer.username, code="000000")
    evidence.row(tried="a wrong code", outcome=str(response.status_code))
    response = login(client, world.officer.username, code=code_for(world.officer))
    evidence.row(tried="the right code at once after it", outcome=str(response.status_code))
    assert response.status_code == 400
    assert client.get(reverse("web:worklist")).status_code != 200

    device = device_for(world.officer)
    device.throttle_reset()
    code = code_for(world.officer)
    response = login(client, world.officer.username, code=code)
    evidence.row(tried="the right code once the wait is over", outcome=str(response.status_code))
    assert response.status_code == 302
    client.post(reverse("web:logout"))
    response = login(english(), world.officer.username, code=code)
    evidence.row(
        tried="the same code again, from another browser", outcome=str(response.status_code)
    )
    assert response.status_code == 400


@pytest.mark.evidence("security")
def test_the_admin_signs_in_only_through_the_web_sign_in(world: World, evidence: Any) -> None:
    """The admin has no sign-in of its own that could bypass the lockout or the one-time code.

    Regression: Django's admin login authenticated by itself, so a locked-out user name could
    still be tried there (a right password answered 200, a wrong one 429).
    """
    user = world.ombud.user
    client = english()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.username, password="wrong-password")
    answers = {}
    for label, password in (("right", PASSWORD), ("wrong", "wrong-password")):
        response = client.post(
            reverse("admin:login") + "?next=/admin/",
            {"username": user.username, "password": password},
        )
        answers[label] = (response.status_code, response.get("Location"))
        evidence.row(
            tried=f"POST /admin/login/ with the {label} password while locked out",
            outcome=f"{response.status_code} to {response.get('Location')}",
        )
    assert answers["right"] == answers["wrong"] == (302, "/login/?next=/admin/")
    assert "_auth_user_id" not in client.session

    staff = UserFactory(roles=["administrator"], is_staff=True, is_superuser=True)
    device_for(staff)
    client = english()
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("admin:login"))
    response = client.get(response["Location"])
    assert response["Location"] == "/login/?next=/admin/"
    response = client.post(
        "/login/?next=/admin/",
        {"username": staff.username, "password": PASSWORD, "otp_token": code_for(staff)},
    )
    evidence.row(
        tried="an administrator signs in on /login/?next=/admin/ with password and code",
        outcome=f"{response.status_code} to {response['Location']}",
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.evidence("security")
def test_login_only_redirects_to_this_site(world: World, evidence: Any) -> None:
    """After signing in, a ``next`` pointing to another site is ignored (no open redirect)."""
    client = Client()
    response = client.post(
        reverse("web:login") + "?next=https://evil.example/",
        {"username": world.ombud.user.username, "password": PASSWORD},
    )
    evidence.row(tried="sign in with next=https://evil.example/", outcome=response["Location"])
    assert response["Location"] == reverse("web:ombud_home")


@pytest.mark.evidence("security")
def test_sessions_expire_when_idle_and_at_browser_close(evidence: Any) -> None:
    """Sessions end after 30 idle minutes and at browser close; the cookie is HttpOnly."""
    for name in (
        "SESSION_COOKIE_AGE",
        "SESSION_SAVE_EVERY_REQUEST",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
    ):
        evidence.row(tried=name, outcome=str(getattr(settings, name)))
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")


def _session_key(client: Client) -> str:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else ""


def _session_exists(key: str) -> bool:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return bool(key) and store().exists(key)


@pytest.mark.evidence("security")
@pytest.mark.parametrize("who", ["ombud", "officer"])
def test_signing_in_gives_a_new_session_id(world: World, who: str, evidence: Any) -> None:
    """No session fixation: the session id from before signing in is dropped at sign-in."""
    user = world.ombud.user if who == "ombud" else world.officer
    code = code_for(user) if who == "officer" else ""
    client = english()
    session = client.session  # a session (and its cookie) before signing in
    session["planted"] = "by an attacker"
    session.save()
    before = _session_key(client)
    assert _session_exists(before)
    response = login(client, user.username, code=code)
    assert response.status_code == 302
    after = _session_key(client)
    evidence.row(
        tried=f"{who} signs in carrying an existing session id",
        outcome="new id, old one deleted"
        if after != before and not _session_exists(before)
        else "same id kept",
    )
    assert after and after != before
    assert not _session_exists(before)


@pytest.mark.evidence("security")
def test_forms_refuse_posts_without_the_csrf_token(
    users: dict[str, Any], case: dict[str, Any], evidence: Any
) -> None:
    """Every form (sign-in, sign-out, language, each page that changes data) checks CSRF."""
    targets: list[tuple[str, str, Any]] = [
        ("login", reverse("web:login"), None),
        ("set_language", reverse("set_language"), None),
    ]
    for name, (method, args, rules) in PAGES.items():
        if method == "post":
            # A role that may post there (signing out: anyone signed in).
            role = next(
                (r for r, expected in rules.items() if expected in (OK, AS_TYPED)), "officer"
            )
            url = reverse(f"web:{name}", kwargs=case[args])
            targets.append((name, url, users[role]))
    targets.sort(key=lambda target: target[0] == "logout")  # signing out last
    secret = get_random_string(32)
    data = {"username": "x", "password": "y", "language": "en", "action": "assign"}
    got = {}
    for name, url, user in targets:
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            sign_in(client, user)
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
        for label, token in (("no", None), ("a wrong", get_random_string(32)), ("the", secret)):
            form = data if token is None else {**data, "csrfmiddlewaretoken": token}
            status = client.post(url, form).status_code
            got[name, label] = status == 403
            evidence.row(tried=f"POST {url} with {label} CSRF token", outcome=str(status))
    assert got == {(name, label): label != "the" for name, label in got}
    assert {name for name, _label in got} >= {"logout", "application_transition", "login"}


#: Security headers every response carries (SecurityMiddleware, XFrameOptions, django-csp).
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: What the Content-Security-Policy must say.
POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
)


def _inline_code(html: str) -> list[str]:
    found = []
    if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
        found.append("inline script")
    if re.search(r"<style\b", html):
        found.append("style element")
    if re.search(r"\sstyle=", html):
        found.append("style attribute")
    if re.search(r"\son[a-z]+=", html):
        found.append("inline event handler")
    if "https://" in html.split("<body", 1)[0]:
        found.append("something from another site")
    return found


@pytest.mark.evidence("security")
def test_pages_send_a_content_security_policy_without_inline_code(
    world: World, users: dict[str, Any], case: dict[str, Any], evidence: Any
) -> None:
    """Every page (and the API, the admin) sends CSP without unsafe-*, DENY, nosniff, referrer."""
    requests: list[tuple[str, Client, str]] = []
    for name, (method, args, rules) in PAGES.items():
        if method == "get":
            role = next(r for r, expected in rules.items() if expected == OK)
            url = reverse(f"web:{name}", kwargs=case[args])
            client = Client() if name == "login" else sign_in(Client(), users[role])
            requests.append(
                (f"GET {url} as {'anonymous' if name == 'login' else role}", client, url)
            )
    api = Client(HTTP_AUTHORIZATION=f"Token {issue_token(world.officer, label='csp')[1]}")
    requests.append(("GET /api/v1/applications/ with a token", api, "/api/v1/applications/"))
    admin = UserFactory(roles=["administrator"], is_staff=True, is_superuser=True)
    requests.append(("GET /admin/ as a superuser", sign_in(Client(), admin), "/admin/"))
    problems = {}
    for tried, client, url in requests:
        response = client.get(url)
        assert outcome(response) == OK, url
        policy = response.get("Content-Security-Policy", "")
        found = [f"{h}: {response.get(h)}" for h, v in HEADERS.items() if response.get(h) != v]
        found += [f"CSP lacks {part}" for part in POLICY if part not in policy]
        found += [
            f"CSP allows {word}" for word in ("unsafe-inline", "unsafe-eval") if word in policy
        ]
        if "text/html" in response.get("Content-Type", "") and not url.startswith("/admin/"):
            found += _inline_code(response.content.decode())
        evidence.row(tried=tried, outcome="; ".join(found) or "all headers as required")
        if found:
            problems[url] = found
    assert problems == {}


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


@pytest.mark.evidence("security")
def test_signing_out_ends_the_session(world: World, evidence: Any) -> None:
    """Signing out deletes the session on the server: its cookie replayed opens nothing."""
    client = sign_in(Client(), world.officer)
    assert client.get(reverse("web:worklist")).status_code == 200
    stolen = _session_key(client)
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(reverse("web:worklist")).status_code == 302
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = replay.get(reverse("web:worklist"))
    evidence.row(
        tried="GET /worklist/ with the session cookie from before signing out",
        outcome=f"{response.status_code} to {response.get('Location')}",
    )
    assert not _session_exists(stolen)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
