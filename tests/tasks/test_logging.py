"""Logs: one JSON object a line in production, each with the request id; never a person."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from config.request_id import RequestIdFilter
from demo.seed import FIRST, LAST
from fund.models import Application
from reminders.services import send_due_reminders


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s")
        )
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured():
    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.django_db
def test_the_demo_flow_logs_no_personal_names(captured, client_for):
    from django.contrib.auth.models import User

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    Application.objects.update(
        state_changed_at=timezone.now() - timedelta(days=40),
        decided_at=timezone.now() - timedelta(days=40),
    )
    send_due_reminders()
    officer = client_for(User.objects.get(username="officer"))
    for app in officer.get("/api/v1/applications/?page_size=100").json()["results"]:
        officer.get(f"/api/v1/applications/{app['reference']}/")
        officer.get(f"/api/v1/applications/{app['reference']}/person/")  # logged, not in logs
        officer.post(
            f"/api/v1/applications/{app['reference']}/transitions/close/", {}, format="json"
        )

    text = "\n".join(captured.lines)
    assert len(captured.lines) > 10
    found = [n for n in (*FIRST, *LAST) if re.search(rf"\b{re.escape(n)}\b", text)]
    assert found == []
    assert not re.search(r"\b(19|20)\d{6}[-+]?\d{4}\b", text)  # no personnummer


@pytest.mark.django_db
def test_every_line_is_json_with_the_request_id(captured, client_for, world):
    client = client_for(world.officer)

    response = client.get("/api/v1/applications/?state=bogus", HTTP_X_REQUEST_ID="req-12345678")

    assert response["X-Request-ID"] == "req-12345678"
    records = [json.loads(line) for line in captured.lines]
    warning = next(r for r in records if r["name"] == "django.request")
    assert warning["request_id"] == "req-12345678"


def test_an_unsafe_incoming_id_is_replaced(db):
    response = APIClient().get("/api/schema/", HTTP_X_REQUEST_ID="<script>")

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_production_logging_is_json(monkeypatch):
    import subprocess
    import sys

    from tests.config.test_deploy_settings import PRODUCTION_ENV

    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('fundflow').warning('A-2026-000001 waits')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(__import__("django.conf").conf.settings.BASE_DIR),
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "A-2026-000001 waits"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "-"
