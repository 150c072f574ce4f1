"""Suite-wide fixtures and the rules for tests that need PostgreSQL or a Celery worker.

Locally such tests skip with their reason. With FUNDFLOW_STRICT=1 (CI) a skip is a failure,
so a CI run can never pass while silently leaving out what it is meant to prove.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from hypothesis import settings as hypothesis_settings

STRICT = os.environ.get("FUNDFLOW_STRICT") == "1"

# Property tests share two cores with real Celery workers and web servers (tests/faults,
# tests/tasks): a per-example wall-clock deadline (200 ms by default) fails them at random.
hypothesis_settings.register_profile("fundflow", deadline=None)
hypothesis_settings.load_profile("fundflow")


def pytest_configure(config: pytest.Config) -> None:
    # Real hashing costs ~0.3 s a user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Automatic checkpoints would add rows and queries to whichever test crosses a threshold;
    # tests/audit/test_automatic_checkpoints.py turns them on, and every server started as a
    # subprocess (make run, the deployment tests) runs with the real default (on).
    settings.AUDIT_AUTO_CHECKPOINT = False


@pytest.fixture(autouse=True, scope="session")
def _keys_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never write keys next to the project."""
    keys = tmp_path_factory.mktemp("keys")
    settings.FIELD_ENCRYPTION_KEY_FILE = keys / "field.key"
    settings.BLIND_INDEX_KEY_FILE = keys / "blind-index.key"
    # Made here, before any test: core.crypto generates a missing key only after asking the
    # database whether data under it exists, and some tests encrypt without a database.
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEY_FILE.write_bytes(Fernet.generate_key())
    settings.BLIND_INDEX_KEY_FILE.write_bytes(b"blind-index-key-for-the-test-session")
    settings.AUDIT_SIGNING_KEY_FILE = keys / "audit-signing.pem"
    settings.AUDIT_PUBLIC_KEY_FILE = keys / "audit-signing.pub.pem"
    # Made up front too, so no test depends on an earlier one having signed a checkpoint.
    from audit.signing import _generate

    _generate(settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_PUBLIC_KEY_FILE)
    from core.crypto import reset_key_cache

    reset_key_cache()


@pytest.fixture(autouse=True)
def _forget_the_seen_checkpoint() -> None:
    """Each test starts with its own database: no process-wide view of its checkpoints."""
    from audit.checkpoints import forget_seen_checkpoint

    forget_seen_checkpoint()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    broker = os.environ.get("CELERY_TEST_BROKER_URL", "")
    for item in items:
        _serialize_rollback_of_transactional_tests(item)
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set POSTGRES_TEST_URL (see .ci/run)")
            )
        if "celery" in item.keywords and not (broker and on_postgres):
            item.add_marker(
                pytest.mark.skip(
                    reason="needs a Celery broker and PostgreSQL: set CELERY_TEST_BROKER_URL "
                    "and POSTGRES_TEST_URL (see .ci/run)"
                )
            )


def _serialize_rollback_of_transactional_tests(item: pytest.Item) -> None:
    """Every transactional test restores the rows migrations made (roles, chart of accounts).

    Mixing serialized and plain transactional tests breaks: a plain flush re-creates content
    types that the next serialized restore then inserts again. So all of them serialize.
    """
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", [])
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in names or "live_server" in names
    )
    if transactional and "django_db_serialized_rollback" not in names:
        names.append("django_db_serialized_rollback")
    if transactional and marker is not None and not marker.kwargs.get("serialized_rollback"):
        # pytest-django decides which test databases to serialize at creation from the
        # marker alone: without this, a run of only such tests restores nothing.
        kwargs = {**marker.kwargs, "serialized_rollback": True}
        item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"FUNDFLOW_STRICT=1: a test may not skip in CI ({report.longrepr})"


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """Specs assert the English messages; Swedish ones are tested in test_translations."""
    with translation.override("en"):
        yield


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(settings.BASE_DIR) / "artifacts"
    path.mkdir(exist_ok=True)
    return path


pytest_plugins = [
    "tests.fixtures",
    "tests.audit_triggers",
    "tests.celery_worker",
    "tests.evidence",
]
