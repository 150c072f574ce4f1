"""Error reports never carry personal data (issue #14, defect 4).

A server error mails the administrators a report with the POSTed fields and every frame's
local variables (django.utils.log.AdminEmailHandler, as production sends it with DEBUG off).
Views that receive personal data and the services that handle decrypted values are marked
``sensitive_post_parameters`` / ``sensitive_variables``, so the report shows stars instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from fund.models import Beneficiary
from tests.fixtures import World
from tests.signin import api_client, sign_in

NAME = "Ada Andersson"
NUMBER = "811218-9876"
NEED = "Glasögon efter misshandel"


@pytest.fixture
def error_mails(settings, monkeypatch) -> Iterator[list]:
    """Production error reporting: DEBUG off, admins mailed; saving a person fails."""
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.org")]
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Beneficiary, "save", disk_full)
    try:
        yield mail.outbox
    finally:
        logger.removeHandler(handler)


def _report_text(outbox: list) -> str:
    assert outbox, "the server error was reported to the administrators"
    parts = []
    for message in outbox:
        parts.append(message.subject)
        parts.append(message.body)
        parts.extend(str(content) for content, _type in message.alternatives)
    return "\n".join(parts)


def _assert_no_personal_values(report: str) -> None:
    assert "disk full" in report, "the report is there and tells what failed"
    # Whole values only: four digits or a short name also turn up in addresses and hashes.
    for value in (NAME, "Andersson", NUMBER, "198112189876", NEED, "misshandel"):
        assert value not in report, value


def test_error_report_from_the_registration_page_carries_no_posted_personal_data(
    world: World, error_mails
):
    client = sign_in(Client(raise_request_exception=False), world.ombud.user)
    data = {
        "fund": str(world.fund.pk),
        "person-name": NAME,
        "person-personal_number": NUMBER,
        "person-region": "AB",
        "need-TOTAL_FORMS": "1",
        "need-INITIAL_FORMS": "0",
        "need-MIN_NUM_FORMS": "0",
        "need-MAX_NUM_FORMS": "10",
        "need-0-category": "glasses",
        "need-0-description": NEED,
        "need-0-amount": "600",
    }
    response = client.post(reverse("web:ombud_new"), data)
    assert response.status_code == 500
    _assert_no_personal_values(_report_text(error_mails))


def test_error_report_from_the_api_carries_no_personal_data(world: World, error_mails):
    client = api_client(world.ombud.user)
    client.raise_request_exception = False
    case = {
        "fund": world.fund.code,
        "person": {"name": NAME, "personal_number": NUMBER, "region": "AB"},
        "items": [{"category": "glasses", "amount": "600", "description": NEED}],
    }
    response = client.post("/api/v1/applications/", case, format="json")
    assert response.status_code == 500
    _assert_no_personal_values(_report_text(error_mails))


def test_error_report_from_the_login_page_carries_no_password(db, error_mails, monkeypatch):
    import web.views.auth

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(web.views.auth, "authenticate", broken)
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("web:login"),
        {"username": "hanna", "password": "Ada-secret-9876", "otp_token": "123456"},
    )
    assert response.status_code == 500
    report = _report_text(error_mails)
    assert "disk full" in report
    assert "Ada-secret-9876" not in report and "123456" not in report
