"""How fast a hostile XLSX time sheet is refused (issue #18), against the reading it replaced.

The files of the issue, built in memory: 150 000 rows tagged ``<dimension ref="A1:H2">``
(rows and cells without ``r``, so it stays under the 50 MiB the file may unpack to), and a
sheet of one row repeated until it unpacks to 49 MB (from about half a megabyte), and the
review's file of one row of 250 000 cells (all column A) beside 255 000 shared texts. Each is
given to ``load_dataset`` as an upload is (best of three). The baseline, in the same run, is
the reading this replaced: the zip's total unpacked size, then tablib's openpyxl read-only
load, then the row count (run once: it takes tens of seconds). Also measured: the slowest
refusal the bounds still let through — a sheet small enough to pass them with one row too
many, refused by counting while streaming — and reading a valid 10 000-row file, both ways.
No database is touched.
"""

from __future__ import annotations

import functools
import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

from bench import Result

REFUSAL_TARGET = "< 1000 ms"


def _old_load(data: bytes) -> str:
    """The reading before issue #18, as cofinancing/resources.py had it: what it concluded."""
    import tablib

    from cofinancing.resources import MAX_ROWS

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > 50 * 1024 * 1024:
            return "refused: unpacks too large"
    dataset = tablib.Dataset().load(data, format="xlsx")
    if len(dataset) > MAX_ROWS:
        return f"refused: {len(dataset):,} rows"
    return f"accepted: {len(dataset):,} rows read"


def _new_load(data: bytes) -> str:
    from cofinancing.resources import load_dataset
    from core.exceptions import ValidationFailed

    try:
        return f"accepted: {len(load_dataset(data, 'xlsx')):,} rows read"
    except ValidationFailed as refused:
        return "refused: " + refused.messages[0][:70]


def _timed(work: Callable[[], Any], rounds: int) -> tuple[Any, float]:
    best = float("inf")
    outcome = None
    for _ in range(rounds):
        started = time.perf_counter()
        outcome = work()
        best = min(best, time.perf_counter() - started)
    return outcome, best


def run() -> list[Result]:
    from cofinancing.resources import COLUMNS, MAX_ROWS
    from cofinancing.xlsx_reader import CELLS_BEYOND_COLUMNS, part_limits, shared_strings_limits
    from tests.cofinancing.xlsx_files import (
        mislabelled,
        one_wide_row,
        sheet_xml,
        time_sheet_rows,
        unpacking_to,
        workbook,
    )

    files = {
        "150,000 rows tagged A1:H2": mislabelled(150_000, references=False),
        "one row repeated to 49 MB": unpacking_to(49 * 1000 * 1000),
        "one row of 250,000 cells and 255,000 texts": one_wide_row(250_000, texts=255_000),
        "one row of 250,000 cells": one_wide_row(250_000),
        f"{MAX_ROWS + 1:,} rows tagged A1:H2, under every bound": mislabelled(MAX_ROWS + 1),
        f"a valid file of {MAX_ROWS:,} rows": workbook(sheet_xml(time_sheet_rows(MAX_ROWS))),
    }
    results: list[Result] = []
    for name, data in files.items():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        new, new_s = _timed(functools.partial(_new_load, data), rounds=3)
        old, old_s = _timed(functools.partial(_old_load, data), rounds=1)
        print(f"  {name}: {len(data) / 1e3:,.0f} kB, unpacks to {unpacked / 1e6:,.1f} MB")
        print(f"    now: {new}\n    before: {old}")
        target = REFUSAL_TARGET if new.startswith("refused") and "bound" not in name else ""
        results.append(Result(f"{name}: read or refused", new_s * 1e3, "ms", old_s * 1e3, target))
    max_bytes, max_tags = part_limits(MAX_ROWS)
    results.append(Result("bound on any one part, unpacked", max_bytes / 2**20, "MiB"))
    results.append(Result("bound on any one part's tags", max_tags, "tags"))
    _, _, texts = shared_strings_limits(MAX_ROWS, len(COLUMNS))
    results.append(Result("bound on the shared-strings table", texts, "texts"))
    results.append(Result("bound on a row", len(COLUMNS) + CELLS_BEYOND_COLUMNS, "cells"))
    return results
