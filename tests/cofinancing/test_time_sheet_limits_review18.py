"""Review of issue #18's XLSX limits: a bomb that got through (review18), now refused."""

from __future__ import annotations

import random

import pytest

from cofinancing.resources import COLUMNS, MAX_ROWS
from cofinancing.xlsx_reader import read_rows
from core.exceptions import ValidationFailed
from tests.cofinancing.xlsx_files import _NS, HEADER, row_xml, workbook


def _one_row_of_many_cells(cells: int) -> bytes:
    """The header, then ONE row of ``cells`` numbers all referenced as column A: within the
    per-part byte and tag limits (set for 10 000 rows of eight cells), packed like a sheet."""
    rnd = random.Random(18)
    body = "".join(f'<c r="A2" t="n"><v>{rnd.getrandbits(16)}</v></c>' for _ in range(cells))
    sheet = (
        f'<worksheet xmlns="{_NS}"><dimension ref="A1:H2"/><sheetData>'
        + row_xml(1, HEADER)
        + f'<row r="2">{body}</row></sheetData></worksheet>'
    ).encode()
    return workbook(sheet)


def test_an_xlsx_row_with_more_cells_than_the_time_sheet_has_columns_is_refused() -> None:
    """'Count rows while streaming and stop at the limit': the limits count rows and the
    tags of a whole part, so one row may hold as many cells as 10 000 rows would — 250 000
    cells (2.4 MB, with as many shared strings beside) took 3.8 s of CPU against 0.8 s for
    a real 10 000-row sheet, and was accepted as one row. Cells per row must be bounded
    while streaming (the header's width, or the columns a time sheet has)."""
    data = _one_row_of_many_cells(250_000)

    with pytest.raises(ValidationFailed):
        read_rows(data, max_rows=MAX_ROWS, columns=len(COLUMNS))
