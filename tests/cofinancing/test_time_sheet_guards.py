"""Issue #13, defect 9: imported time sheets are not rewritten around the import and its audit."""

from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.test import Client

from cofinancing.demo import seed_cofinancing
from cofinancing.models import TimeSheetEntry
from tests.factories import UserFactory
from tests.signin import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("ledger")]


def _superuser_client() -> Client:
    user = cast(User, UserFactory(roles=["treasurer"]))
    user.is_staff = user.is_superuser = True
    user.save()
    return sign_in(Client(), user)


def test_a_time_sheet_entry_cannot_be_edited_or_deleted_in_the_admin() -> None:
    seed_cofinancing()
    entry = TimeSheetEntry.objects.order_by("pk").first()
    assert entry is not None
    client = _superuser_client()
    url = f"/admin/cofinancing/timesheetentry/{entry.pk}/"

    page = client.get(url + "change/")
    response = client.post(
        url + "change/",
        {
            "project": entry.project_id,
            "partner": entry.partner_id,
            "person_ref": entry.person_ref,
            "pay_group": entry.pay_group,
            "month": entry.month.isoformat(),
            "hours": entry.hours * 10,
            "hourly_rate_0": "9999.00",
            "hourly_rate_1": "SEK",
            "attestation_ref": entry.attestation_ref,
        },
    )
    deleted = client.post(url + "delete/", {"post": "yes"})

    assert page.status_code == 200 and 'name="hours"' not in page.content.decode()
    assert response.status_code == 403 and deleted.status_code == 403
    assert TimeSheetEntry.objects.get(pk=entry.pk).hours == entry.hours
    listing = client.get("/admin/cofinancing/timesheetentry/").content.decode()
    assert "action-checkbox" not in listing  # no bulk delete either


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cofinancing_timesheetentry SET hours = hours + 1 WHERE id = %s",
        "UPDATE cofinancing_timesheetentry SET hourly_rate = 1 WHERE id = %s",
        "UPDATE cofinancing_timesheetentry SET person_ref = 'P-999' WHERE id = %s",
        "UPDATE cofinancing_timesheetentry SET month = '2007-01-01' WHERE id = %s",
        "DELETE FROM cofinancing_timesheetentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_time_sheet_entry(statement: str) -> None:
    seed_cofinancing()
    entry = TimeSheetEntry.objects.order_by("pk").first()
    assert entry is not None
    with (
        pytest.raises(IntegrityError, match="time sheet"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [entry.pk])
    assert TimeSheetEntry.objects.get(pk=entry.pk).hours == entry.hours
