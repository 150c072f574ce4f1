"""Every answer denies the browser features the site does not use (``Permissions-Policy``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.signin import api_client, sign_in

pytestmark = pytest.mark.django_db

#: Features nobody on the site needs; each must be denied outright (``feature=()``).
DENIED = ("camera", "microphone", "geolocation", "payment", "usb", "interest-cohort")


def _denied(header: str) -> set[str]:
    rules = dict(part.strip().split("=", 1) for part in header.split(",") if part.strip())
    return {feature for feature, allowed in rules.items() if allowed == "()"}


def test_pages_api_error_pages_and_static_files_send_a_permissions_policy(world: Any) -> None:
    officer = sign_in(Client(), world.officer)
    answers = {
        "sign-in page": Client().get(reverse("web:login")),
        "worklist page": officer.get(reverse("web:worklist")),
        "API answer": api_client(world.officer).get("/api/v1/applications/"),
        "API refusal": Client().get("/api/v1/applications/"),
        "error page": officer.get("/no-such-page/"),
        "static file": Client().get("/static/web/app.css"),
    }

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "sign-in page": 200,
        "worklist page": 200,
        "API answer": 200,
        "API refusal": 401,
        "error page": 404,
        "static file": 200,
    }
    policies = {
        name: answer.headers.get("Permissions-Policy", "") for name, answer in answers.items()
    }
    assert {name: set(DENIED) - _denied(policy) for name, policy in policies.items()} == {
        name: set() for name in answers
    }
