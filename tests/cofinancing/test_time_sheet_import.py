"""Time-sheet import: all rows or none, and every bad row reported with its reason."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from audit.models import AuditEvent
from cofinancing.demo import PROJECT_CODE, seed_cofinancing
from cofinancing.models import Project, TimeSheetEntry
from cofinancing.resources import TimeSheetResource
from cofinancing.services import import_time_sheets
from core.exceptions import PermissionDenied, ValidationFailed
from tests.factories import UserFactory
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

PARTNER = "212000-0183"
HEADER = "project,partner,person,pay_group,month,hours,hourly_rate,attestation"
GOOD = [
    f"{PROJECT_CODE},{PARTNER},P-010,Kurator,2007-10,12,350.00,ATT-2007-10-K1",
    f"{PROJECT_CODE},{PARTNER},P-011,Kurator,2007-10,8,320,ATT-2007-10-K1",
    f"{PROJECT_CODE},{PARTNER},P-010,Kurator,2007-11,40,350.00,ATT-2007-11-K1",
]
BAD = [
    f"{PROJECT_CODE},,P-012,Kurator,2007-10,10,350,ATT-X",  # 4: partner missing
    f"{PROJECT_CODE},{PARTNER},P-013,Kurator,2007-10,7.5,350,ATT-X",  # 5: fractional hours
    f"{PROJECT_CODE},{PARTNER},P-014,Kurator,2007-10,-3,350,ATT-X",  # 6: negative hours
    f"{PROJECT_CODE},{PARTNER},P-015,Kurator,2007-13,10,350,ATT-X",  # 7: unknown month
    f"{PROJECT_CODE},{PARTNER},P-016,Kurator,2007-10,tio,350,ATT-X",  # 8: text as hours
    f"{PROJECT_CODE},{PARTNER},P-010,Kurator,2007-10,12,350.00,ATT-2007-10-K1",  # 9: dup of 1
]


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


@pytest.fixture
def treasurer() -> User:
    return cast(User, UserFactory(roles=["treasurer"]))


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _xlsx(*rows: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    for row in rows:
        values: list[object] = list(row.split(","))
        # A spreadsheet holds numbers as numbers.
        with contextlib.suppress(ValueError):
            values[5] = float(str(values[5])) if "." in str(values[5]) else int(str(values[5]))
        values[6] = float(str(values[6]))
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_valid_file_is_imported_whole_and_audited(project: Project, treasurer: User) -> None:
    before = TimeSheetEntry.objects.count()
    result = import_time_sheets(_csv(*GOOD), format="csv", actor=treasurer, dry_run=False)

    assert result.ok and result.rows == 3 and result.imported == 3
    assert TimeSheetEntry.objects.count() == before + 3
    entry = TimeSheetEntry.objects.get(person_ref="P-011")
    assert (entry.hours, entry.amount, entry.month.isoformat()) == (8, 2560, "2007-10-01")
    assert len(entry.import_sha256) == 64
    event = AuditEvent.objects.get(action="cofinancing.time_sheets_imported")
    assert event.payload["imported"] == 3 and event.payload["projects"] == [PROJECT_CODE]
    assert "P-011" not in str(event.payload)


def test_a_dry_run_checks_everything_and_imports_nothing(project: Project, treasurer: User) -> None:
    before = TimeSheetEntry.objects.count()
    result = import_time_sheets(_csv(*GOOD), format="csv", actor=treasurer, dry_run=True)
    assert result.ok and result.rows == 3 and result.imported == 0
    assert TimeSheetEntry.objects.count() == before
    assert not AuditEvent.objects.filter(action="cofinancing.time_sheets_imported").exists()


@pytest.mark.parametrize("fmt,build", [("csv", _csv), ("xlsx", _xlsx)])
def test_one_bad_row_imports_nothing_and_every_bad_row_is_reported(
    project: Project, treasurer: User, fmt: str, build
) -> None:  # type: ignore[no-untyped-def]
    before = TimeSheetEntry.objects.count()
    result = import_time_sheets(build(*GOOD, *BAD), format=fmt, actor=treasurer, dry_run=False)

    assert TimeSheetEntry.objects.count() == before
    assert result.imported == 0
    by_row: dict[tuple[int, str], str] = {}
    for e in result.errors:
        by_row[(e.row, e.field)] = by_row.get((e.row, e.field), "") + " | " + e.message
    assert sorted({row for row, _field in by_row}) == [4, 5, 6, 7, 8, 9]
    assert "partner" in by_row[(4, "partner")] and "missing" in by_row[(4, "partner")]
    assert "whole hours" in by_row[(5, "hours")]
    assert "more than 0" in by_row[(6, "hours")]
    assert "not a month" in by_row[(7, "month")]
    assert "not a number of hours" in by_row[(8, "hours")]
    assert "row 1" in by_row[(9, "")] and "Duplicate" in by_row[(9, "")]
    assert not AuditEvent.objects.filter(action="cofinancing.time_sheets_imported").exists()


def test_rows_already_imported_are_refused_the_second_time(
    project: Project, treasurer: User
) -> None:
    import_time_sheets(_csv(*GOOD), format="csv", actor=treasurer, dry_run=False)
    with translation.override("en"):
        result = import_time_sheets(_csv(GOOD[0]), format="csv", actor=treasurer, dry_run=False)
    assert [e.row for e in result.errors] == [1]
    assert "already exists" in result.errors[0].message


def test_unknown_project_partner_of_another_project_and_month_outside_the_project(
    project: Project, treasurer: User
) -> None:
    result = import_time_sheets(
        _csv(
            f"NOPE,{PARTNER},P-1,x,2007-10,1,100,A",
            f"{PROJECT_CODE},212000-0001,P-1,x,2007-10,1,100,A",
            f"{PROJECT_CODE},{PARTNER},P-1,x,2009-01,1,100,A",
            f"{PROJECT_CODE},{PARTNER},Anna Andersson,x,2007-10,1,100,A",
            f"{PROJECT_CODE},{PARTNER},P-2,x,2007-10,1,-100,A",
        ),
        format="csv",
        actor=treasurer,
        dry_run=True,
    )
    fields = {(e.row, e.field) for e in result.errors}
    assert {(1, "project"), (2, "partner"), (3, "month"), (4, "person_ref")} <= fields
    assert any(e.row == 5 for e in result.errors)  # a negative rate breaks a constraint


def test_a_file_that_is_not_csv_or_xlsx_is_refused_as_a_whole(
    project: Project, treasurer: User
) -> None:
    with pytest.raises(ValidationFailed, match="could not be read"):
        import_time_sheets(b"not a zip", format="xlsx", actor=treasurer)
    with pytest.raises(ValidationFailed):
        import_time_sheets(_csv(*GOOD), format="ods", actor=treasurer)


def test_only_a_treasurer_or_administrator_may_import(project: Project) -> None:
    officer = UserFactory(roles=["officer"])
    with pytest.raises(PermissionDenied):
        import_time_sheets(_csv(*GOOD), format="csv", actor=officer)


def test_import_command_lists_every_bad_row(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "tid.csv"
    path.write_bytes(_csv(*GOOD, *BAD))
    with pytest.raises(CommandError) as refused:
        call_command("import_time_sheets", str(path), "--commit")
    message = str(refused.value)
    assert "Nothing imported: " in message
    for row in (4, 5, 6, 7, 8, 9):
        assert f"Row {row} " in message
    path.write_bytes(_csv(*GOOD))
    out = io.StringIO()
    call_command("import_time_sheets", str(path), "--commit", stdout=out)
    assert "3 time sheet rows imported" in out.getvalue()


def test_the_admin_import_page_uses_the_same_service(project: Project, client) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin_user = cast(User, UserFactory(roles=["treasurer"]))
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    sign_in(client, admin_user)
    url = "/admin/cofinancing/timesheetentry/import/"
    assert client.get(url).status_code == 200
    before = TimeSheetEntry.objects.count()

    bad = SimpleUploadedFile("t.csv", _csv(*GOOD, *BAD), content_type="text/csv")
    page = client.post(url, {"file": bad, "format": "csv", "commit": "on"})
    body = page.content.decode()
    assert page.status_code == 200 and "row-errors" in body
    assert body.count("<tr><td>") >= 6
    assert TimeSheetEntry.objects.count() == before

    good = SimpleUploadedFile("t.csv", _csv(*GOOD), content_type="text/csv")
    page = client.post(url, {"file": good, "format": "csv", "commit": "on"})
    assert TimeSheetEntry.objects.count() == before + 3
    listing = client.get("/admin/cofinancing/timesheetentry/")
    assert listing.status_code == 200 and b"import/" in listing.content
    assert client.get("/admin/cofinancing/timesheetentry/export/").status_code == 200


def test_time_sheets_export_with_their_hourly_rate_filled_in(project: Project) -> None:
    dataset = TimeSheetResource().export(TimeSheetEntry.objects.filter(person_ref="P-002"))
    assert dataset.headers[:6] == ["project", "partner", "person", "pay_group", "month", "hours"]
    assert set(dataset["hourly_rate"]) == {"320.00"}
    assert dataset[0][4] == "2006-01" and dataset[0][1] == PARTNER
