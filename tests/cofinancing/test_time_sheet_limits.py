"""XLSX time sheets cannot exhaust the server (issue #18): the rows are counted as they are
read (never from the sheet's ``<dimension>``), and a file that unpacks to more than its rows
need, or carries what a spreadsheet program never writes, is refused before it is parsed."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.template.defaultfilters import filesizeformat
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._reader import WorkSheetParser

from audit.models import AuditEvent
from cofinancing.demo import seed_cofinancing
from cofinancing.models import Project, TimeSheetEntry
from cofinancing.resources import COLUMNS, MAX_ROWS
from cofinancing.services import import_time_sheets
from cofinancing.xlsx_reader import check_parts
from core.exceptions import ValidationFailed
from tests.cofinancing.test_time_sheet_import import GOOD
from tests.cofinancing.xlsx_files import (
    _NS,
    mislabelled,
    row_xml,
    sheet_xml,
    unpacking_to,
    with_shared_strings,
    workbook,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project() -> Project:
    return seed_cofinancing()


@pytest.fixture
def treasurer() -> User:
    return cast(User, UserFactory(roles=["treasurer"]))


def _good_rows() -> list[list[object]]:
    """The three valid rows of the import tests, with numbers as a spreadsheet holds them."""
    rows: list[list[object]] = []
    for line in GOOD:
        values: list[object] = list(line.split(","))
        values[5], values[6] = int(str(values[5])), float(str(values[6]))
        rows.append(values)
    return rows


def _refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make openpyxl's reading fail the test: a refusal must come before it."""

    def parsed(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(ExcelReader, "read", parsed)


def _import(data: bytes, treasurer: User, *, dry_run: bool = False) -> Any:
    return import_time_sheets(data, format="xlsx", actor=treasurer, dry_run=dry_run)


def test_a_wrong_dimension_tag_loses_no_rows(project: Project, treasurer: User) -> None:
    data = workbook(sheet_xml(_good_rows(), dimension="A1:H2"))

    result = _import(data, treasurer)

    assert result.ok, result.errors
    assert (result.rows, result.imported) == (3, 3)
    assert set(TimeSheetEntry.objects.values_list("person_ref", flat=True)) >= {"P-010", "P-011"}


def test_a_wrong_dimension_tag_is_counted_by_its_real_rows_and_refused_over_the_limit(
    project: Project, treasurer: User
) -> None:
    with pytest.raises(ValidationFailed, match=f"more than {MAX_ROWS} rows"):
        _import(mislabelled(MAX_ROWS + 1), treasurer)


def test_rows_are_counted_while_streaming_and_reading_stops_at_the_limit(
    project: Project, treasurer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse_row = WorkSheetParser.parse_row
    parsed: list[int] = []

    def counting(self: WorkSheetParser, element: Any) -> Any:
        parsed.append(1)
        return parse_row(self, element)

    monkeypatch.setattr(WorkSheetParser, "parse_row", counting)

    with pytest.raises(ValidationFailed, match=f"more than {MAX_ROWS} rows"):
        _import(mislabelled(MAX_ROWS + 2_000), treasurer)
    # The header, MAX_ROWS rows and the one over the limit: the rest is never read.
    assert len(parsed) == MAX_ROWS + 2


def test_empty_rows_count_towards_a_bound_of_their_own(project: Project, treasurer: User) -> None:
    blank = "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(3, 2 * MAX_ROWS + 5))
    sheet = sheet_xml(_good_rows()[:1]).replace(b"</sheetData>", blank.encode() + b"</sheetData>")

    with pytest.raises(ValidationFailed, match="empty ones included; delete the empty rows"):
        _import(workbook(sheet), treasurer)


def test_a_highly_compressed_oversized_sheet_is_refused_before_parsing(
    project: Project, treasurer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = unpacking_to(49 * 1000 * 1000)
    assert len(data) < 600_000  # 49 MB packed into less than 600 kB
    _refused_before_parsing(monkeypatch)

    with pytest.raises(ValidationFailed) as refused:
        _import(data, treasurer)

    message = refused.value.messages[0]
    assert (
        f"unpacks to {filesizeformat(49 * 1000 * 1000)}" in message
        and f"at most {MAX_ROWS} rows" in message
    )
    assert "split it" in message


def test_a_sheet_packed_far_tighter_than_a_spreadsheet_packs_is_refused_before_parsing(
    project: Project, treasurer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(row_xml(n, _good_rows()[0]) for n in range(2, 100))
    padding = " " * 5_000_000  # whitespace between elements: valid XML, packs ~1000-fold
    sheet = sheet_xml([]).replace(b"</sheetData>", (rows + padding).encode() + b"</sheetData>")
    _refused_before_parsing(monkeypatch)

    with pytest.raises(ValidationFailed, match=r"packed \d+ times smaller than it unpacks"):
        _import(workbook(sheet), treasurer)


def test_a_sheet_with_more_markup_than_its_rows_need_is_refused_before_parsing(
    project: Project, treasurer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over a million empty cells in a few rows: small, not packed suspiciously tight, and
    # a parser would build every one of them.
    chance = random.Random(18)
    cells = "".join(chance.choices(["<c/>", "<c/> ", "<c/>  ", "<c/>   "], k=1_200_000))
    sheet = sheet_xml([]).replace(b"</sheetData>", f'<row r="2">{cells}</row></sheetData>'.encode())
    _refused_before_parsing(monkeypatch)

    with pytest.raises(ValidationFailed, match="more cells and markup than"):
        _import(workbook(sheet), treasurer)


def test_xml_entity_declarations_are_refused_before_parsing(
    project: Project, treasurer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "lol">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    )
    sheet = laughs + sheet_xml([]).replace(b"<t>project</t>", b"<t>&c;</t>")
    _refused_before_parsing(monkeypatch)

    with pytest.raises(ValidationFailed, match="declares XML entities or a document type"):
        _import(workbook(sheet), treasurer)
    # In any part, whatever its name: the sheet's path is whatever the workbook says it is.
    with pytest.raises(ValidationFailed, match="declares XML entities or a document type"):
        _import(
            workbook(sheet_xml(_good_rows()), extra={"xl/styles.xml": laughs + b"<a/>"}), treasurer
        )


def test_openpyxl_reads_xml_through_defusedxml() -> None:
    import openpyxl

    assert openpyxl.DEFUSEDXML is True


def test_a_normal_file_still_imports(project: Project, treasurer: User) -> None:
    rows = _good_rows()
    rows[0][4] = dt.datetime(2007, 10, 1)  # a month typed as a date
    data = with_shared_strings(rows)

    result = _import(data, treasurer)

    assert result.ok, result.errors
    assert (result.rows, result.imported) == (3, 3)
    entry = TimeSheetEntry.objects.get(person_ref="P-011")
    assert (entry.hours, entry.amount, entry.month) == (8, 2560, dt.date(2007, 10, 1))


def test_empty_rows_and_gaps_between_rows_are_skipped_not_imported(
    project: Project, treasurer: User
) -> None:
    first, second, third = _good_rows()
    sheet = sheet_xml([first]).replace(
        b"</sheetData>",
        (
            '<row r="3"><c r="A3"/><c r="B3" t="inlineStr"><is><t> </t></is></c></row>'
            + row_xml(900_000, second)
            + row_xml(900_001, third)
            + "</sheetData>"
        ).encode(),
    )

    result = _import(workbook(sheet), treasurer)

    assert result.ok, result.errors
    assert (result.rows, result.imported) == (3, 3)


def test_a_workbook_with_more_than_one_sheet_is_refused_naming_its_sheets(
    project: Project, treasurer: User
) -> None:
    data = workbook(sheet_xml(_good_rows()), sheets=2)
    before = TimeSheetEntry.objects.count()

    with pytest.raises(ValidationFailed, match="2 sheets \\(Sheet, Sheet2\\)"):
        _import(data, treasurer)
    assert TimeSheetEntry.objects.count() == before


def test_a_formula_is_refused_where_a_value_is_expected(project: Project, treasurer: User) -> None:
    rows = _good_rows()
    rows[1][5] = "=4*2"
    rows[2][6] = "=G2"

    with pytest.raises(ValidationFailed) as refused:
        _import(workbook(sheet_xml(rows)), treasurer)

    messages = refused.value.messages
    assert any("Cell F3 holds a formula" in m for m in messages)
    assert any("Cell G4 holds a formula" in m for m in messages)
    assert any("paste them as values" in m for m in messages)


def test_a_value_right_of_the_named_columns_is_refused_not_dropped(
    project: Project, treasurer: User
) -> None:
    rows: list[list[object]] = _good_rows()
    rows[1] = [*rows[1], "", "an extra note"]

    with pytest.raises(ValidationFailed, match="Row 3 of the sheet has a value in column J"):
        _import(workbook(sheet_xml(rows)), treasurer)


def test_a_refused_file_loses_nothing_and_writes_nothing(project: Project, treasurer: User) -> None:
    assert _import(with_shared_strings(_good_rows()), treasurer).imported == 3
    entries = sorted(TimeSheetEntry.objects.values_list("id", "person_ref", "hours", "month"))
    events = AuditEvent.objects.count()
    refused = [
        mislabelled(MAX_ROWS + 1),
        unpacking_to(49 * 1000 * 1000),
        workbook(sheet_xml(_good_rows()), sheets=2),
        workbook(sheet_xml([*_good_rows(), [*_good_rows()[0][:5], "=1+1", 300.0, "ATT-F"]])),
    ]

    for data in refused:
        with pytest.raises(ValidationFailed):
            _import(data, treasurer)

    assert (
        sorted(TimeSheetEntry.objects.values_list("id", "person_ref", "hours", "month")) == entries
    )
    assert AuditEvent.objects.count() == events


def test_a_row_with_more_cells_than_the_time_sheet_has_columns_is_refused_while_streaming(
    project: Project, treasurer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 250 000 cells, all referenced as column A: within the part's bytes and tags, and one
    # row to the row count. Refused by its cells as they stream, before one of them is parsed.
    chance = random.Random(18)
    cells = "".join(f'<c r="A3" t="n"><v>{chance.getrandbits(16)}</v></c>' for _ in range(250_000))
    sheet = sheet_xml(_good_rows()[:1]).replace(
        b"</sheetData>", f'<row r="3">{cells}</row></sheetData>'.encode()
    )
    parse_cell = WorkSheetParser.parse_cell
    parsed: list[int] = []

    def counting(self: WorkSheetParser, element: Any) -> Any:
        parsed.append(1)
        return parse_cell(self, element)

    monkeypatch.setattr(WorkSheetParser, "parse_cell", counting)

    with pytest.raises(ValidationFailed) as refused:
        _import(workbook(sheet), treasurer)

    message = refused.value.messages[0]
    assert "Row 3 of the sheet has more than" in message and "8 columns" in message
    assert len(parsed) == 2 * len(COLUMNS)  # the header and the one good row, nothing more


def test_formatted_empty_cells_a_little_right_of_the_columns_still_import(
    project: Project, treasurer: User
) -> None:
    # Excel writes an empty cell for every formatted one, e.g. borders drawn over A:L.
    rows = [[*row, "", "", "", ""] for row in _good_rows()]

    result = _import(workbook(sheet_xml(rows)), treasurer)

    assert result.ok, result.errors
    assert (result.rows, result.imported) == (3, 3)


def _texts(count: int, spelt: str) -> list[str]:
    """``count`` shared-string elements that pack as a spreadsheet's do (not a hundredfold)."""
    chance = random.Random(18)
    return [spelt.format(chance.getrandbits(32)) + " " * chance.randrange(4) for _ in range(count)]


@pytest.mark.parametrize(
    ("strings", "part"),
    [
        (_texts(255_000, "<si><t>{}</t></si>"), "xl/sharedStrings.xml"),
        (_texts(255_000, "<si/>"), "xl/sharedStrings.xml"),  # one tag each
        (_texts(90_000, f"<x:si xmlns:x='{_NS}'><x:t>{{}}</x:t></x:si>"), "xl/texts.xml"),
    ],
    ids=["plain", "empty", "prefixed-elsewhere"],
)
def test_shared_strings_are_bounded_by_rows_times_columns_before_parsing(
    project: Project,
    treasurer: User,
    monkeypatch: pytest.MonkeyPatch,
    strings: list[str],
    part: str,
) -> None:
    # 255 000 texts fit the per-part limits (a million tags) and cost seconds to read; a time
    # sheet of MAX_ROWS rows of eight columns can use at most (MAX_ROWS + 1) * 8 texts,
    # wherever the content types put the table and however its elements are spelt.
    data = with_shared_strings(_good_rows(), more_strings=strings, part=part)
    _refused_before_parsing(monkeypatch)

    with pytest.raises(ValidationFailed) as refused:
        _import(data, treasurer)

    message = refused.value.messages[0]
    assert f"more than {(MAX_ROWS + 1) * len(COLUMNS)} texts" in message
    assert f"{MAX_ROWS} rows of {len(COLUMNS)} columns" in message


def test_a_full_time_sheet_with_every_text_different_passes_the_shared_strings_bound() -> None:
    rows = [
        [f"ESF-{n}", f"P{n}", f"P-{n}", f"Kurator {n}", f"2007-{n}", 1, 350.0, f"ATT-{n}"]
        for n in range(MAX_ROWS)
    ]

    check_parts(with_shared_strings(rows), max_rows=MAX_ROWS, columns=len(COLUMNS))
