"""Review of issue #18's grants: a whole case walk as the application role (review18)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.checkpoints import create_checkpoint
from core import crypto
from fund.models import KeyCanary
from operations.key_canary import check_keys_at_start
from tests.fixtures import World
from tests.operations.test_database_grants import _apply, app_role, as_role  # noqa: F401


@pytest.mark.postgres
def test_after_migrate_prod_the_app_role_walks_a_case_to_paid_and_signs_in(
    world: World,
    app_role: str,  # noqa: F811
    as_role: Any,  # noqa: F811
) -> None:
    """'After each migration … make migrate-prod applies them': every write the application
    makes — a case to paid (vouchers, seals, the voucher counter, select_for_update on the
    ledger), a checkpoint, the key canaries at start, a failed and a good sign-in (axes,
    sessions) — still works as the application role."""
    KeyCanary.objects.all().delete()  # a database from before the canaries: written at start
    _apply(app_role)
    as_role(app_role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role

    world.to_paid(world.new_application("1500"))
    assert create_checkpoint() is not None
    crypto.reset_key_cache()
    check_keys_at_start()
    client = Client()
    login = reverse("web:login")
    ombud = world.ombud.user.username
    bad = client.post(login, {"username": ombud, "password": "wrong", "otp_token": ""})
    good = client.post(
        login, {"username": ombud, "password": "a-long-test-password", "otp_token": ""}
    )
    assert (bad.status_code, good.status_code) == (400, 302)
