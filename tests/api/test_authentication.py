"""Tokens are stored hashed, can be revoked and expire; sessions work; rates are limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import issue_token, revoke_token
from audit.models import AuditEvent
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _tables_holding(text: str) -> list[str]:
    """Every table of the database with a row that contains ``text``, read raw."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {name}")  # noqa: S608 - names from introspection
            if any(text in str(value) for row in cursor.fetchall() for value in row):
                found.append(table)
    return found


@pytest.mark.evidence("security")
def test_the_token_is_shown_once_and_stored_only_as_a_hash(world, evidence):
    """API tokens are stored as hashes: no table of the database holds a token's secret."""
    api_token, plain = issue_token(world.officer, label="case system")

    row = ApiToken.objects.get(pk=api_token.pk)
    assert plain not in (row.digest, row.prefix, row.label)
    assert row.digest == ApiToken.digest_of(plain)
    assert _client(plain).get("/api/v1/applications/").status_code == 200
    assert AuditEvent.objects.filter(action="api.token_issued", object_ref=row.prefix).exists()
    secret = plain.split("_", 2)[2]
    tables = _tables_holding(secret)
    evidence.row(
        tried=f"every table of the database, raw, for the token's {len(secret)}-character secret",
        outcome=", ".join(tables) or "not found",
    )
    evidence.row(tried="api_apitoken.digest", outcome=f"SHA-256, {len(row.digest)} hex digits")
    assert tables == []
    assert _tables_holding(row.digest) == ["api_apitoken"]  # the scan does find what is there


@pytest.mark.parametrize(
    "header",
    ["Token ff_000000000000_nope", "Token garbage", "Token", "Token a b"],
)
def test_a_wrong_token_is_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/applications/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_or_expired_token_no_longer_works(world):
    revoked, plain_revoked = issue_token(world.officer, label="old")
    revoke_token(revoked, actor=world.admin)
    _expired, plain_expired = issue_token(
        world.officer, label="short", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert _client(plain_revoked).get("/api/v1/applications/").status_code == 401
    assert _client(plain_expired).get("/api/v1/applications/").status_code == 401


def test_without_credentials_is_401(world):
    assert APIClient().get("/api/v1/applications/").status_code in (401, 403)


def test_a_user_without_a_role_gets_no_token(db):
    from core.exceptions import ValidationFailed
    from tests.factories import UserFactory

    with pytest.raises(ValidationFailed):
        issue_token(UserFactory(), label="x")


@pytest.mark.evidence("security")
def test_session_authentication_works_and_needs_csrf_for_writes(world, evidence):
    """Session writes to the API need the CSRF token; token requests are not exposed to CSRF.

    A browser sends cookies by itself but never an Authorization header, so a forged
    cross-site request can only ride on the session: that path checks CSRF.
    """
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.ombud.user)

    assert client.get("/api/v1/applications/").status_code == 200
    response = client.post("/api/v1/applications/", {}, format="json")
    evidence.row(
        tried="session: POST /api/v1/applications/ without CSRF token",
        outcome=str(response.status_code),
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]

    secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    wrong = client.post(
        "/api/v1/applications/", {}, format="json", HTTP_X_CSRFTOKEN=get_random_string(32)
    )
    right = client.post("/api/v1/applications/", {}, format="json", HTTP_X_CSRFTOKEN=secret)
    evidence.row(tried="session: the same with a wrong CSRF token", outcome=str(wrong.status_code))
    evidence.row(tried="session: the same with the CSRF token", outcome=str(right.status_code))
    assert wrong.status_code == 403
    assert right.status_code == 400  # past CSRF: the empty body is refused

    _token, plain = issue_token(world.ombud.user, label="csrf")
    token_client = APIClient(enforce_csrf_checks=True)
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
    response = token_client.post("/api/v1/applications/", {}, format="json")
    evidence.row(
        tried="token: POST /api/v1/applications/ without CSRF token",
        outcome=str(response.status_code),
    )
    assert response.status_code == 400


@pytest.mark.evidence("security")
def test_staff_sessions_need_the_one_time_code_for_the_api_too(world, evidence):
    """A staff session without the one-time code is not signed in for the API either.

    Regression: the API took any session, so a staff member whose role was granted after
    signing in (password only) reached the API without the second factor.
    """
    password_only = APIClient()
    password_only.force_login(world.officer)
    with_code = sign_in(APIClient(), world.officer)

    answers = {
        "password only": password_only.get("/api/v1/applications/").status_code,
        "password and one-time code": with_code.get("/api/v1/applications/").status_code,
    }
    for label, status in answers.items():
        evidence.row(
            tried=f"officer's session ({label}): GET /api/v1/applications/", outcome=str(status)
        )
    assert answers == {"password only": 401, "password and one-time code": 200}


def test_requests_over_the_rate_are_429(world, client_for):
    client = client_for(world.officer)
    with override_settings(API_THROTTLE_RATES={"user": "3/min", "anon": "3/min"}):
        answers = [client.get("/api/v1/applications/").status_code for _ in range(5)]

    assert answers == [200, 200, 200, 429, 429]


def test_management_command_issues_a_working_token(world):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("api_token", "issue", world.officer.username, "--label", "ci", stdout=out)

    assert _client(out.getvalue().strip()).get("/api/v1/applications/").status_code == 200


def test_the_api_answers_in_swedish_unless_asked_otherwise(world):
    _token, plain = issue_token(world.officer, label="sv")

    response = _client(plain).get("/api/v1/applications/?state=bogus")

    assert response.json()["fields"]["state"] == ["Okänd status."]


def test_a_token_prefix_never_reads_like_a_personal_identity_number(monkeypatch, world) -> None:  # type: ignore[no-untyped-def]
    """The audit log names a token by its prefix and refuses anything that reads like a
    personnummer: a prefix of twelve decimal digits is drawn again (it once failed CI)."""
    import secrets

    from api.services import issue_token

    drawn = iter(["195986035820", "19a986035820"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(drawn))
    token, _plain = issue_token(world.officer, label="prefix")
    assert token.prefix == "19a986035820"
