"""/healthz and /readyz for load balancers and orchestrators (issue #18).

Neither writes to the database, sets a cookie or redirects; /readyz names each failed check
and nothing else (no key, no personal data, no database error text).
"""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent, AuditVerificationRun
from core import crypto
from operations import health
from operations.key_canary import check_keys_at_start
from tests.fixtures import World
from tests.signin import sign_in

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@pytest.fixture
def ready(world: World) -> World:
    """A started server's database: canaries written, the chain verified just now."""
    world.new_application("500")
    check_keys_at_start()
    AuditVerificationRun.objects.create(
        ran_at=timezone.now(), kind="verify", ok=True, summary="intact"
    )
    health._migrated.clear()
    return world


def _get(client: Client, path: str, **extra: Any) -> tuple[Any, list[str]]:
    """The answer and every SQL statement it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    return response, [query["sql"] for query in queries.captured_queries]


def _readyz(client: Client | None = None) -> Any:
    response, statements = _get(client or Client(), "/readyz")
    assert not [sql for sql in statements if WRITES.match(sql)], "the probe wrote"
    assert "Set-Cookie" not in response.headers
    return response


def _failed(response: Any) -> list[str]:
    return list(response.json()["failed"])


def test_healthz_answers_ok_without_touching_the_database():
    """No django_db mark: pytest-django refuses any database access in this test."""
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "Set-Cookie" not in response.headers


@pytest.mark.django_db
def test_readyz_answers_200_when_every_check_passes(ready):
    response = _readyz()
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"
    assert _failed(response) == []
    assert response.json()["checks"]["broker"].startswith("not used")


@pytest.mark.django_db
def test_probes_write_nothing_and_set_no_cookie_even_for_a_signed_in_browser(ready):
    """Sessions are saved on every request (SESSION_SAVE_EVERY_REQUEST); not on a probe."""
    client = sign_in(Client(), ready.officer)
    for path in ("/healthz", "/readyz"):
        response, statements = _get(client, path)
        assert response.status_code == 200
        assert not [sql for sql in statements if WRITES.match(sql)], path
        assert "Set-Cookie" not in response.headers, path


@pytest.mark.django_db
def test_probes_need_no_login_no_csrf_and_never_redirect(ready, settings):
    settings.SECURE_SSL_REDIRECT = True  # production, probed over plain HTTP behind the proxy
    client = Client(enforce_csrf_checks=True)
    for path in ("/healthz", "/readyz", "/healthz/", "/readyz/"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert client.head("/readyz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_probes_answer_only_hosts_in_allowed_hosts(ready):
    assert Client().get("/healthz", HTTP_HOST="evil.example").status_code == 400


@pytest.mark.django_db
def test_readyz_fails_when_a_migration_is_not_applied(ready):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    # fund's newest migration, as if a deployment had not migrated yet.
    (leaf,) = [n for a, n in MigrationLoader(connection).graph.leaf_nodes() if a == "fund"]
    MigrationRecorder.Migration.objects.filter(app="fund", name=leaf).delete()
    response = _readyz()
    assert response.status_code == 503
    assert _failed(response) == ["migrations"]
    assert response.json()["checks"]["migrations"] == "1 migrations not applied"


@pytest.mark.django_db
def test_readyz_fails_without_showing_the_error_when_the_database_does_not_answer(
    ready, monkeypatch
):
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection to server at 10.0.0.5 failed: password for fundflow")

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "database" in _failed(response)
    assert b"10.0.0.5" not in response.content and b"password" not in response.content


@pytest.mark.django_db
def test_readyz_fails_when_the_field_encryption_key_does_not_open_the_canary(ready, settings):
    wrong = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [wrong]
    crypto.reset_key_cache()
    try:
        response = _readyz()
    finally:
        crypto.reset_key_cache()
    assert response.status_code == 503
    assert _failed(response) == ["keys"]
    assert "field_encryption" in response.json()["checks"]["keys"]
    assert wrong.encode() not in response.content
    assert str(settings.FIELD_ENCRYPTION_KEY_FILE).encode() not in response.content


@pytest.mark.django_db
def test_readyz_fails_when_the_blind_index_key_does_not_match_the_canary(ready, settings):
    settings.BLIND_INDEX_KEY = "another-installation-s-blind-index-key-0123"
    response = _readyz()
    assert response.status_code == 503
    assert "blind_index" in response.json()["checks"]["keys"]
    assert settings.BLIND_INDEX_KEY.encode() not in response.content


@pytest.mark.django_db
def test_readyz_fails_while_the_keys_have_no_canary(world: World):
    """Migrated after this process started: its keys were never checked."""
    AuditVerificationRun.objects.create(ran_at=timezone.now(), kind="verify", ok=True, summary="")
    response = _readyz()
    assert response.status_code == 503
    assert _failed(response) == ["keys"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db
def test_readyz_fails_quickly_when_the_configured_broker_does_not_answer(ready, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    started = time.monotonic()
    response = _readyz()
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert _failed(response) == ["broker"]
    assert response.json()["checks"]["broker"] == "not reachable"


@pytest.mark.django_db
def test_readyz_passes_when_the_configured_broker_answers(ready, settings):
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = _readyz()
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_readyz_fails_when_the_last_verification_found_the_chain_broken(ready):
    AuditVerificationRun.objects.create(
        ran_at=timezone.now(), kind="verify", ok=False, sequence=3, summary="broken"
    )
    response = _readyz()
    assert response.status_code == 503
    assert _failed(response) == ["audit"]


@pytest.mark.django_db
def test_readyz_fails_when_the_chain_was_not_verified_within_the_set_hours(ready, settings):
    settings.AUDIT_VERIFIED_WITHIN_HOURS = 26
    AuditVerificationRun.objects.update(ran_at=timezone.now() - timedelta(hours=27))
    response = _readyz()
    assert response.status_code == 503
    assert _failed(response) == ["audit"]
    settings.AUDIT_VERIFIED_WITHIN_HOURS = 28
    assert _readyz().status_code == 200


@pytest.mark.django_db
def test_a_log_never_verified_is_ready_only_while_its_first_event_is_younger_than_the_limit(
    ready, settings
):
    AuditVerificationRun.objects.all().delete()
    assert AuditEvent.objects.exists()
    assert _readyz().status_code == 200, "a new installation before its first nightly run"
    settings.AUDIT_VERIFIED_WITHIN_HOURS = 0.0001  # the first event is older than that
    time.sleep(0.5)
    response = _readyz()
    assert response.status_code == 503
    assert _failed(response) == ["audit"]


@pytest.mark.django_db
def test_readyz_does_not_verify_the_chain_in_the_request(ready, django_assert_max_num_queries):
    """Cheap: a handful of small queries, whatever the length of the chain."""
    for _ in range(3):
        ready.new_application("100")
    _readyz()  # the migration graph once per process
    with django_assert_max_num_queries(8):
        assert Client().get("/readyz").status_code == 200


# Who is told which check failed (review18: the proxy let anyone read it).

METRICS_TOKEN = "a-long-random-metrics-token-for-the-probe-tests-0123456789"


@pytest.fixture
def chain_broken(ready: World) -> World:
    AuditVerificationRun.objects.create(
        ran_at=timezone.now(), kind="verify", ok=False, sequence=3, summary="broken"
    )
    return ready


@pytest.mark.django_db
def test_readyz_gives_a_client_through_the_proxy_only_the_status_word(chain_broken):
    response = _readyz_from(HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}


@pytest.mark.django_db
def test_readyz_gives_a_direct_client_outside_the_allowed_addresses_only_the_status_word(
    chain_broken,
):
    response = _readyz_from(REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}


@pytest.mark.django_db
def test_readyz_tells_the_operator_with_the_metrics_token_which_check_failed(
    chain_broken, settings
):
    settings.METRICS_TOKEN = METRICS_TOKEN
    response = _readyz_from(
        HTTP_X_FORWARDED_FOR="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}"
    )
    assert response.status_code == 503
    assert _failed(response) == ["audit"]
    wrong = _readyz_from(HTTP_X_FORWARDED_FOR="203.0.113.5", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.json() == {"status": "not ready"}


@pytest.mark.django_db
def test_readyz_tells_the_load_balancer_probing_directly_from_an_allowed_address(
    chain_broken, settings
):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    response = _readyz_from(REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 503
    assert _failed(response) == ["audit"]
    assert response.json()["checks"]["audit"] == "the last verification found the chain broken"


@pytest.mark.django_db
def test_readyz_answers_ready_with_the_status_word_to_anyone(ready):
    response = _readyz_from(HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def _readyz_from(**extra: Any) -> Any:
    response, statements = _get(Client(), "/readyz", **extra)
    assert not [sql for sql in statements if WRITES.match(sql)], "the probe wrote"
    return response


# The headers every page carries (review18: the probes answered before them).


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_carry_a_csp_that_allows_nothing_and_the_permissions_policy(ready, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_carry_hsts_when_it_is_configured(ready, settings, path):
    settings.SECURE_HSTS_SECONDS = 3600
    response = Client().get(path, secure=True)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=3600")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_still_counted_in_the_request_metrics(ready, path):
    from prometheus_client.parser import text_string_to_metric_families

    from operations.metrics import scrape

    def answered_get_requests() -> float:
        """Counted under the probe's own route name, not lumped with unknown paths."""
        return sum(
            sample.value
            for family in text_string_to_metric_families(scrape().decode())
            for sample in family.samples
            if sample.name == "fundflow_http_requests_total"
            and sample.labels.get("method") == "GET"
            and sample.labels.get("status") == "2xx"
            and sample.labels.get("route") == path.strip("/")
        )

    before = answered_get_requests()
    assert Client().get(path).status_code == 200
    assert answered_get_requests() == before + 1


@pytest.mark.django_db
def test_an_unready_instance_is_logged_once_per_change_not_on_every_probe(ready, caplog):
    """An orchestrator probes every few seconds: Django's line per 503 would bury the log.
    One WARNING when readiness is lost (naming the failed checks), one INFO when it is back."""
    health.forget_last_readiness()
    with caplog.at_level("INFO"):
        assert _readyz().status_code == 200
        run = AuditVerificationRun.objects.create(
            ran_at=timezone.now(), kind="verify", ok=False, sequence=3, summary="broken"
        )
        for _ in range(3):
            assert _readyz().status_code == 503
        run.delete()
        assert _readyz().status_code == 200
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert [line for line in lines if line[0] == "django.request"] == []
    changes = [line for line in lines if line[0] == "fundflow.operations"]
    assert changes == [
        ("fundflow.operations", "WARNING", "not ready: audit"),
        ("fundflow.operations", "INFO", "ready again"),
    ]
