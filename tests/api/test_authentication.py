"""Tokens are stored hashed, can be revoked and expire; sessions work; rates are limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import issue_token, revoke_token
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_token_is_shown_once_and_stored_only_as_a_hash(world):
    api_token, plain = issue_token(world.officer, label="case system")

    row = ApiToken.objects.get(pk=api_token.pk)
    assert plain not in (row.digest, row.prefix, row.label)
    assert row.digest == ApiToken.digest_of(plain)
    assert _client(plain).get("/api/v1/applications/").status_code == 200
    assert AuditEvent.objects.filter(action="api.token_issued", object_ref=row.prefix).exists()


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
    revoke_token(revoked, world.admin)
    _expired, plain_expired = issue_token(
        world.officer, label="short", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert _client(plain_revoked).get("/api/v1/applications/").status_code == 401
    assert _client(plain_expired).get("/api/v1/applications/").status_code == 401


def test_without_credentials_is_401(world):
    assert APIClient().get("/api/v1/applications/").status_code in (401, 403)


def test_a_user_without_a_role_gets_no_token(db):
    from tests.factories import UserFactory
    from workflows.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        issue_token(UserFactory(), label="x")


def test_session_authentication_works_and_needs_csrf_for_writes(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.ombud.user)

    assert client.get("/api/v1/applications/").status_code == 200
    response = client.post("/api/v1/applications/", {}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


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
