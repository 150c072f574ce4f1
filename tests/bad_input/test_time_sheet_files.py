"""Malformed time-sheet files: refused with every problem named, and not one row imported.

The import is all rows or none (``cofinancing.services.import_time_sheets``). A file that
cannot be read, or has the wrong columns, is refused as a whole; a readable file with bad
rows is refused with each bad row and column. Either way nothing is imported.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cofinancing.demo import seed_cofinancing
from cofinancing.services import import_time_sheets
from core.exceptions import ValidationFailed
from tests.bad_input.conftest import snapshot
from tests.cofinancing.test_time_sheet_import import GOOD, HEADER, _csv, _xlsx
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.evidence("bad_input")]

ROW = GOOD[0]
LAUGHS = b'<!DOCTYPE worksheet [<!ENTITY a "ha">' + b"".join(
    f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(9)
)


@pytest.fixture
def treasurer():  # type: ignore[no-untyped-def]
    seed_cofinancing()
    return UserFactory(roles=["treasurer"])


def _lines(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _row(old: str, new: str) -> bytes:
    return _csv(ROW.replace(old, new, 1))


def _sheet_xml(change: Callable[[bytes], bytes]) -> bytes:
    """A real XLSX file whose worksheet XML is changed by ``change``."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx(ROW)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, change(data) if info.filename.endswith("sheet1.xml") else data)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(51 * 1024 * 1024))
    return out.getvalue()


def _xxe(secret: Path) -> bytes:
    entity = f'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
    return _sheet_xml(lambda xml: entity + xml.replace(b"<t>", b"<t>&x;", 1))


@dataclass(frozen=True)
class BadFile:
    tried: str
    build: Callable[[Path], bytes]
    expect: str
    format: str = "csv"


BAD_FILES = [
    BadFile("an empty file", lambda _: b"", "The file is empty."),
    BadFile("the header row only", lambda _: _lines(HEADER), "header row but no time sheet rows"),
    BadFile(
        "columns separated by semicolons (Excel, Swedish settings)",
        lambda _: _lines(HEADER.replace(",", ";"), ROW.replace(",", ";")),
        "separated by “;”",
    ),
    BadFile(
        "columns missing (project,partner,person only)",
        lambda _: _lines("project,partner,person", ",".join(ROW.split(",")[:3])),
        "Columns missing: pay_group, month, hours, hourly_rate, attestation",
    ),
    BadFile(
        "an extra column (comment)",
        lambda _: _lines(HEADER + ",comment", ROW + ",hello"),
        "Unknown columns: comment",
    ),
    BadFile(
        "a column named twice (hours)",
        lambda _: _lines(HEADER + ",hours", ROW + ",5"),
        "Columns named twice: hours",
    ),
    BadFile(
        "Latin-1 bytes (“Kurator på plats” saved as ANSI)",
        lambda _: (
            _lines(HEADER, ROW.replace("Kurator", "Kurator på plats")).decode().encode("latin-1")
        ),
        "not UTF-8 text (byte 0xe5",
    ),
    BadFile(
        "a PNG image uploaded as CSV", lambda _: b"\x89PNG\r\n\x1a\n" + bytes(200), "not UTF-8 text"
    ),
    BadFile("a NUL byte in a cell", lambda _: _row("Kurator", "Kur\x00ator"), "NUL bytes"),
    BadFile(
        "an unbalanced quote",
        lambda _: _row("Kurator", '"Kurator'),
        "could not be read as CSV (line",
    ),
    BadFile(
        "a row with 2 cells under an 8-column header",
        lambda _: _lines(HEADER, ROW, "a,b"),
        "Row 2 has 2 cells; the header has 8.",
    ),
    BadFile("an invalid month (2007-13)", lambda _: _row("2007-10", "2007-13"), "not a month"),
    BadFile("hours as text (tolv)", lambda _: _row(",12,", ",tolv,"), "not a number of hours"),
    BadFile("99 999 hours in a month", lambda _: _row(",12,", ",99999,"), "at most 744 hours"),
    BadFile("an hourly rate of NaN", lambda _: _row("350.00", "NaN"), "not an amount"),
    BadFile("an hourly rate of 1e30", lambda _: _row("350.00", "1e30"), "is larger than"),
    BadFile(
        "formula injection in a text cell (=cmd|' /C calc'!A0)",
        lambda _: _row("Kurator", "=cmd|' /C calc'!A0"),
        "starts like a spreadsheet formula",
    ),
    BadFile(
        "formula injection with @ (@SUM(A1:A9))",
        lambda _: _row("ATT-2007-10-K1", "@SUM(A1:A9)"),
        "starts like a spreadsheet formula",
    ),
    BadFile(
        "a pay group of 5 000 characters",
        lambda _: _row("Kurator", "K" * 5000),
        "pay_group: at most 40 characters (this is 5000)",
    ),
    BadFile(
        "100 000 rows (7 MB)",
        lambda _: _lines(HEADER, *[ROW] * 100_000),
        "at most 5.0",
    ),
    BadFile(
        "10 001 short rows (under the size limit, over the row limit)",
        lambda _: _lines(HEADER, *[",,,,,,,"] * 10_001),
        "more than 10000 rows",
    ),
    BadFile(
        "a PNG image uploaded as XLSX",
        lambda _: b"\x89PNG\r\n\x1a\n" + bytes(200),
        "could not be read as XLSX",
        "xlsx",
    ),
    BadFile(
        "a CSV file declared as XLSX", lambda _: _csv(ROW), "could not be read as XLSX", "xlsx"
    ),
    BadFile(
        "an XLSX “zip bomb” (unpacks to 51 MB)", lambda _: _zip_bomb(), "unpacks to 51.0", "xlsx"
    ),
    BadFile(
        "an XLSX whose sheet expands entities (billion laughs)",
        lambda _: _sheet_xml(lambda xml: LAUGHS + b"]>" + xml.replace(b"<t>", b"<t>&j;", 1)),
        "declares XML entities or a document type",
        "xlsx",
    ),
    BadFile(
        "an XLSX whose sheet reads a local file (XXE)",
        _xxe,
        "declares XML entities or a document type",
        "xlsx",
    ),
]


def _messages(content: bytes, fmt: str, user: Any) -> tuple[list[str], int]:
    """What the import answered: the file's or the rows' problems, and how many imported."""
    try:
        result = import_time_sheets(content, format=fmt, actor=user, dry_run=False)
    except ValidationFailed as refused:
        return refused.messages, 0
    return [f"Row {e.row} {e.field}: {e.message}" for e in result.errors], result.imported


@pytest.mark.parametrize("bad", BAD_FILES, ids=[b.tried for b in BAD_FILES])
def test_malformed_time_sheet_files_import_nothing(treasurer, tmp_path, evidence, bad):  # type: ignore[no-untyped-def]
    """Malformed time-sheet files are refused with every problem named; nothing is imported"""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-XXE-TOKEN")
    content = bad.build(secret)
    before = snapshot()
    started = time.monotonic()
    messages, imported = _messages(content, bad.format, treasurer)
    seconds = time.monotonic() - started

    text = " | ".join(messages)
    assert imported == 0 and messages
    assert bad.expect in text
    assert "TOP-SECRET" not in text
    assert snapshot() == before
    assert seconds < 10
    evidence.row(
        tried=f"time sheets ({bad.format.upper()}): {bad.tried}",
        outcome=f"refused in {seconds:.2f} s: “{text[:240]}”; 0 rows imported",
    )


def test_a_bom_and_windows_line_ends_are_read(treasurer, evidence):  # type: ignore[no-untyped-def]
    """A UTF-8 BOM and CRLF line ends (Excel's “CSV UTF-8”) are read as they are"""
    content = ("\ufeff" + "\r\n".join([HEADER, *GOOD]) + "\r\n").encode()
    result = import_time_sheets(content, format="csv", actor=treasurer, dry_run=False)
    assert (result.errors, result.imported) == ([], len(GOOD))
    evidence.row(
        tried="time sheets (CSV) with a UTF-8 BOM and CRLF line ends",
        outcome=f"accepted: {result.imported} rows imported",
    )
