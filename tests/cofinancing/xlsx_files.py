"""XLSX files built by hand for the time-sheet limits: a real workbook whose sheet XML is
rewritten with ``zipfile``, so a file can say one thing in ``<dimension>`` and hold another,
unpack far beyond its size, or carry what a spreadsheet program would never write.

Shared by tests/cofinancing/test_time_sheet_limits.py and bench/bench_time_sheet.py.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from cofinancing.resources import COLUMNS

#: The time sheet's columns, as the import names them.
HEADER = COLUMNS
SHEET = "xl/worksheets/sheet1.xml"
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _cell(reference: str, value: object) -> str:
    where = f' r="{reference}"' if reference else ""
    if isinstance(value, int | float):
        return f'<c{where} t="n"><v>{value}</v></c>'
    if isinstance(value, str) and value.startswith("="):
        return f"<c{where}><f>{escape(value[1:])}</f><v>0</v></c>"
    return f'<c{where} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row_xml(number: int, values: Sequence[object], *, references: bool = True) -> str:
    """One ``<row>`` as openpyxl writes it (inline strings), or without any ``r`` attribute."""
    cells = "".join(
        _cell(f"{_LETTERS[i]}{number}" if references else "", v) for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>' if references else f"<row>{cells}</row>"


def sheet_xml(
    rows: Iterable[Sequence[object]], *, dimension: str | None = None, references: bool = True
) -> bytes:
    """A worksheet of the header and ``rows``; ``dimension`` overrides the true extent, and
    without ``references`` rows and cells carry no ``r`` (valid, and a third smaller)."""
    body = [row_xml(1, HEADER, references=references)]
    count = 1
    for count, values in enumerate(rows, start=2):
        body.append(row_xml(count, values, references=references))
    extent = dimension or f"A1:H{count}"
    return (
        f'<worksheet xmlns="{_NS}"><dimension ref="{extent}"/><sheetData>'
        + "".join(body)
        + "</sheetData></worksheet>"
    ).encode()


def _template(sheets: int = 1) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for n in range(1, sheets):
        book.create_sheet(f"Sheet{n + 1}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(sheet: bytes, *, sheets: int = 1, extra: dict[str, bytes] | None = None) -> bytes:
    """A workbook of ``sheets`` sheets whose first sheet's XML is ``sheet`` (deflated as Excel
    does); ``extra`` replaces or adds other parts."""
    parts = {SHEET: sheet, **(extra or {})}
    with zipfile.ZipFile(io.BytesIO(_template(sheets))) as source:
        names = [info.filename for info in source.infolist()]
        contents = {name: parts.pop(name, None) or source.read(name) for name in names}
    contents.update(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return out.getvalue()


def time_sheet_rows(count: int, project: str = "ESF-EQ-2005") -> list[tuple[object, ...]]:
    """``count`` rows as a partner's payroll office would type them (distinct people and months)."""
    return [
        (
            project,
            "212000-0183",
            f"P-{i % 900:03d}",
            "Kurator",
            f"2007-{i % 12 + 1:02d}",
            i % 160 + 1,
            350.0,
            f"ATT-{i % 97}",
        )
        for i in range(count)
    ]


def mislabelled(rows: int, *, references: bool = True) -> bytes:
    """``rows`` time-sheet rows whose ``<dimension>`` claims one (``A1:H2``)."""
    return workbook(sheet_xml(time_sheet_rows(rows), dimension="A1:H2", references=references))


def unpacking_to(size: int) -> bytes:
    """A sheet of the same row over and over (no row numbers) until it is ``size`` bytes
    unpacked, its ``<dimension>`` true: it packs a hundredfold or more, as a "zip bomb" does."""
    row = row_xml(0, time_sheet_rows(1)[0], references=False).encode()
    head_row = row_xml(1, HEADER).encode()
    tail = b"</sheetData></worksheet>"
    repeats = max(0, (size - len(head_row) - len(tail) - 120) // len(row))
    head = f'<worksheet xmlns="{_NS}"><dimension ref="A1:H{repeats + 1}"/><sheetData>'.encode()
    return workbook(head + head_row + row * repeats + tail)


def with_shared_strings(
    rows: Sequence[Sequence[object]],
    *,
    more_strings: Sequence[str] = (),
    part: str = "xl/sharedStrings.xml",
) -> bytes:
    """The header and ``rows`` as Excel saves them: text in ``xl/sharedStrings.xml``, cells
    pointing at it by index (openpyxl itself writes inline strings). ``more_strings`` are
    ``<si>`` elements (as XML) appended to the table, which no cell uses; ``part`` is where
    the table is kept (the workbook's content types say where)."""
    strings: dict[str, int] = {}

    def cell(reference: str, value: object) -> str:
        if isinstance(value, dt.datetime):  # a serial day number in a date style
            return f'<c r="{reference}" s="1"><v>{(value - dt.datetime(1899, 12, 30)).days}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{reference}"><v>{value}</v></c>'
        index = strings.setdefault(str(value), len(strings))
        return f'<c r="{reference}" t="s"><v>{index}</v></c>'

    body = "".join(
        f'<row r="{n}">' + "".join(cell(f"{_LETTERS[i]}{n}", v) for i, v in enumerate(r)) + "</row>"
        for n, r in enumerate([HEADER, *rows], start=1)
    )
    sheet = f'<worksheet xmlns="{_NS}"><sheetData>{body}</sheetData></worksheet>'.encode()
    table = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "".join(more_strings)
    return _with_table(sheet, table, part)


def one_wide_row(cells: int, *, texts: int = 0) -> bytes:
    """The header, then ONE row of ``cells`` cells all referenced as column A (review18), and
    a shared-strings table of ``texts`` texts the cells point at; packed as a sheet packs."""
    chance = random.Random(18)
    if texts:
        body = "".join(f'<c r="A2" t="s"><v>{n % texts}</v></c>' for n in range(cells))
    else:
        body = "".join(f'<c r="A2" t="n"><v>{chance.getrandbits(16)}</v></c>' for _ in range(cells))
    sheet = (
        f'<worksheet xmlns="{_NS}"><dimension ref="A1:H2"/><sheetData>'
        + row_xml(1, HEADER)
        + f'<row r="2">{body}</row></sheetData></worksheet>'
    ).encode()
    if not texts:
        return workbook(sheet)
    table = "".join(f"<si><t>{chance.getrandbits(32)}</t></si>" for _ in range(texts))
    return _with_table(sheet, table, "xl/sharedStrings.xml")


def _with_table(sheet: bytes, table: str, part: str) -> bytes:
    """A workbook of ``sheet`` and the shared-strings ``table`` (``<si>`` items) at ``part``."""
    shared = f'<sst xmlns="{_NS}">{table}</sst>'
    with zipfile.ZipFile(io.BytesIO(_template())) as source:
        types = source.read("[Content_Types].xml").decode()
        rels = source.read("xl/_rels/workbook.xml.rels").decode()
        styles = source.read("xl/styles.xml").decode()
    # A second cell style: a date (Excel's built-in number format 14).
    styles = styles.replace('<cellXfs count="1">', '<cellXfs count="2">').replace(
        "</cellXfs>", '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
    )
    types = types.replace(
        "</Types>",
        f'<Override PartName="/{part}" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/sharedStrings" Target="/{part}" Id="rId9"/></Relationships>',
    )
    return workbook(
        sheet,
        extra={
            part: shared.encode(),
            "xl/styles.xml": styles.encode(),
            "[Content_Types].xml": types.encode(),
            "xl/_rels/workbook.xml.rels": rels.encode(),
        },
    )
