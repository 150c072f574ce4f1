"""Reading the rows of a one-sheet XLSX upload without letting the file exhaust the server.

openpyxl's read-only mode sizes a sheet by its ``<dimension>`` tag, which the file states
about itself (a 150 000-row file tagged ``A1:H2`` was read as one row), and a zip unpacks to
whatever its parts hold (a 521 kB file to 49 MB: 27 s of CPU before the rows were counted).
So, before openpyxl parses anything, every part's unpacked size, packing ratio and markup are
held against what ``max_rows`` rows can need, the shared-strings table (which openpyxl reads
whole when it opens the workbook) against the texts ``max_rows`` rows of ``columns`` columns
can hold, and a part declaring a DTD (XML entity tricks) is refused; then the rows are
streamed, their cells counted as they come (one row of 250 000 cells fitted every per-part
limit), and reading stops at the limit.

Formulas are refused: a time sheet is attested figures, and a formula's stored result is
whatever the file says it is, not necessarily what the formula gives when the sheet is
opened. A workbook of more than one sheet is refused, naming them, rather than reading one
and silently leaving the others.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from core.inputs import shown

#: What the whole file (a zip) may unpack to.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
#: Sheet XML one row of time sheets may need: Excel writes about 400 bytes, openpyxl about
#: 410 (inline strings); 1 KiB leaves room for long texts and escaped characters.
ROW_XML_BYTES = 1024
#: Tags (``<``) one row may need: a row and eight inline-string cells are 50.
ROW_TAGS = 100
#: What a part holds besides the rows (views, column widths, styles, the theme).
PART_OVERHEAD_BYTES = 512 * 1024
PART_OVERHEAD_TAGS = 20_000
#: How much smaller than unpacked a part of more than ``RATIO_CHECKED_FROM`` may be packed:
#: spreadsheet programs pack sheets 5 to 20 times; "zip bombs" a hundred times and more.
MAX_PACKING_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024
#: Rows read, empty ones included, per row the limit allows (a blank row costs a parse too).
ROWS_READ_PER_ROW = 2
#: Cells a row may hold beyond the time sheet's columns: spreadsheet programs write an empty
#: cell for every formatted one (borders drawn a few columns too wide).
CELLS_BEYOND_COLUMNS = 8
#: Shared-strings table (``<si>`` items) per text it may hold, one per cell of ``max_rows``
#: rows of ``columns`` columns: a plain text is 4 tags, phonetic hints or a few formatted runs
#: (part of a cell in bold) more; a text of a time sheet is a code or a name.
SHARED_STRING_TAGS = 12
SHARED_STRING_BYTES = 256
SHARED_STRINGS_OVERHEAD_BYTES = 64 * 1024
SHARED_STRINGS_OVERHEAD_TAGS = 1_000
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
#: Formula cells named in a refusal before it says "…".
FORMULAS_LISTED = 20
_CHUNK = 1024 * 1024
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_CARRY = max(len(m) for m in _DTD_MARKERS) - 1
#: The start of an ``<si>`` element, with or without a namespace prefix (what openpyxl counts
#: as a text); in a comment or CDATA it is counted too, which only errs towards refusing.
_TEXT_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_TEXT_ITEM_CARRY = 64


def part_limits(max_rows: int) -> tuple[int, int]:
    """The unpacked bytes and the tags any one part may hold: what the header and
    ``max_rows`` rows need, and room for the rest."""
    rows = max_rows + 1
    return rows * ROW_XML_BYTES + PART_OVERHEAD_BYTES, rows * ROW_TAGS + PART_OVERHEAD_TAGS


def shared_strings_limits(max_rows: int, columns: int) -> tuple[int, int, int]:
    """The unpacked bytes, the tags and the texts the shared-strings table may hold: one text
    per cell of the header and ``max_rows`` rows of ``columns`` columns (a value right of them
    is refused anyway), not the generic per-part limit (which let 255 000 texts through)."""
    texts = (max_rows + 1) * columns
    return (
        texts * SHARED_STRING_BYTES + SHARED_STRINGS_OVERHEAD_BYTES,
        texts * SHARED_STRING_TAGS + SHARED_STRINGS_OVERHEAD_TAGS,
        texts,
    )


def too_many_rows(max_rows: int) -> ValidationFailed:
    return ValidationFailed(
        _("The file has more than %(max)s rows; at most %(max)s can be imported at once.")
        % {"max": max_rows}
    )


def read_rows(data: bytes, *, max_rows: int, columns: int) -> tuple[list[Any], list[list[Any]]]:
    """The header and the rows (blank rows left out) of the file's only sheet; a file that
    could need more work than ``max_rows`` rows of ``columns`` columns do is refused before it
    is parsed, and a row of more cells than ``columns`` and a small margin while it streams."""
    check_parts(data, max_rows=max_rows, columns=columns)
    return _stream_rows(data, max_rows, columns)


def _unreadable() -> ValidationFailed:
    return ValidationFailed(_("The file could not be read as XLSX."))


def check_parts(data: bytes, *, max_rows: int, columns: int) -> None:
    """Refuse, from the zip directory and one streaming pass at C speed, what parsing would
    pay for: parts too large or packed too tightly, more markup than the rows need, a DTD,
    a shared-strings table of more texts than ``max_rows`` rows of ``columns`` can hold."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _unreadable() from exc
    with archive:
        parts = archive.infolist()
        unpacked = sum(info.file_size for info in parts)
        if unpacked > MAX_UNPACKED_BYTES:
            raise ValidationFailed(
                _("The XLSX file unpacks to %(size)s; at most %(max)s are read.")
                % {"size": filesizeformat(unpacked), "max": filesizeformat(MAX_UNPACKED_BYTES)}
            )
        max_bytes, max_tags = part_limits(max_rows)
        for info in parts:
            name = shown(info.filename, 60)
            if info.file_size > max_bytes:
                raise ValidationFailed(
                    _(
                        "A part of the XLSX file (%(part)s) unpacks to %(size)s; a time sheet "
                        "of at most %(rows)s rows needs at most %(max)s. Keep only the "
                        "time-sheet rows in the file, or split it into several files."
                    )
                    % {
                        "part": name,
                        "size": filesizeformat(info.file_size),
                        "rows": max_rows,
                        "max": filesizeformat(max_bytes),
                    }
                )
            packed = max(info.compress_size, 1)
            if info.file_size > RATIO_CHECKED_FROM and info.file_size > MAX_PACKING_RATIO * packed:
                raise ValidationFailed(
                    _(
                        "A part of the XLSX file (%(part)s) is packed %(ratio)s times smaller "
                        "than it unpacks; spreadsheet programs pack a time sheet at most about "
                        "20 times. Save the file again from the spreadsheet program, or import "
                        "it as CSV."
                    )
                    % {"part": name, "ratio": info.file_size // packed}
                )
        for info in parts:
            _scan_part(archive, info, max_rows, max_tags)
        for info in _shared_strings_parts(archive):
            _check_shared_strings(archive, info, max_rows, columns)


def _scan_part(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int, max_tags: int
) -> None:
    """Count an XML part's tags and look for a DTD while unpacking it; other parts (images)
    are never parsed and are left packed."""
    name = shown(info.filename, 60)
    tags = 0
    carry = b""
    try:
        with archive.open(info) as part:
            first = part.read(_CHUNK)
            start = first.removeprefix(b"\xef\xbb\xbf").lstrip()
            if first.startswith((b"\xff\xfe", b"\xfe\xff")) or start[:2] in (b"<\x00", b"\x00<"):
                raise _unreadable()  # UTF-16 XML: not what spreadsheet programs write
            if not start.startswith(b"<"):
                return
            chunk = first
            while chunk:
                tags += chunk.count(b"<")
                if tags > max_tags:
                    raise ValidationFailed(
                        _(
                            "A part of the XLSX file (%(part)s) holds more cells and markup "
                            "than %(rows)s rows of time sheets need (over %(max)s tags). Delete "
                            "empty or formatted rows and columns outside the time-sheet rows, "
                            "or split the file."
                        )
                        % {"part": name, "rows": max_rows, "max": max_tags}
                    )
                window = carry + chunk
                if any(marker in window for marker in _DTD_MARKERS):
                    raise ValidationFailed(
                        _(
                            "The XLSX file declares XML entities or a document type (in "
                            "%(part)s); spreadsheet programs never write that, and it is not "
                            "read. Save the file again from the spreadsheet program."
                        )
                        % {"part": name}
                    )
                carry = window[-_CARRY:]
                chunk = part.read(_CHUNK)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        raise _unreadable() from exc  # a bad checksum, an unknown method, a password


def _shared_strings_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The parts the content types name as a shared-strings table, as openpyxl finds it
    (every one, whatever its path or the element's namespace: erring towards checking)."""
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        types = fromstring(archive.read("[Content_Types].xml"))
    except KeyError:
        return []  # openpyxl cannot open the workbook: refused as unreadable
    except (ParseError, zipfile.BadZipFile, zlib.error) as exc:
        raise _unreadable() from exc
    names = {
        element.get("PartName", "")[1:]
        for element in types.iter()
        if str(element.tag).rpartition("}")[2] == "Override"
        and element.get("ContentType", "").strip() == SHARED_STRINGS_TYPE
    }
    present = {info.filename: info for info in archive.infolist()}
    return [present[name] for name in sorted(names) if name in present]


def _check_shared_strings(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int, columns: int
) -> None:
    """Count the table's texts and tags at C speed: openpyxl builds every text in Python
    when it opens the workbook (255 000 of them took 2 s), before a row is read."""
    max_bytes, max_tags, max_texts = shared_strings_limits(max_rows, columns)
    refusal = ValidationFailed(
        _(
            "The XLSX file's table of texts (%(part)s) is larger than a time sheet of at most "
            "%(rows)s rows of %(columns)s columns needs (more than %(max)s texts, %(size)s or "
            "%(tags)s tags). Keep only the time-sheet rows and columns in the file, or split "
            "it into several files."
        )
        % {
            "part": shown(info.filename, 60),
            "rows": max_rows,
            "columns": columns,
            "max": max_texts,
            "size": filesizeformat(max_bytes),
            "tags": max_tags,
        }
    )
    if info.file_size > max_bytes:
        raise refusal
    tags = texts = 0
    carry = b""
    try:
        with archive.open(info) as part:
            while chunk := part.read(_CHUNK):
                tags += chunk.count(b"<")
                window = carry + chunk
                # An item is counted in the chunk where its match ends: none twice, none lost.
                texts += sum(1 for m in _TEXT_ITEM.finditer(window) if m.end() > len(carry))
                if tags > max_tags or texts > max_texts:
                    raise refusal
                carry = window[-_TEXT_ITEM_CARRY:]
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        raise _unreadable() from exc


def _stream_rows(data: bytes, max_rows: int, columns: int) -> tuple[list[Any], list[list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # a broken upload fails in many ways inside openpyxl
        raise _unreadable() from exc
    try:
        names = book.sheetnames
        if len(names) > 1:
            raise ValidationFailed(
                _(
                    "The workbook has %(count)s sheets (%(names)s); time sheets are read from "
                    "a workbook of one sheet. Move the rows into one sheet and delete the "
                    "others, or save that sheet as a file of its own."
                )
                % {"count": len(names), "names": ", ".join(shown(n, 31) for n in names[:10])}
            )
        sheet = book.worksheets[0] if book.worksheets else None
        if not isinstance(sheet, ReadOnlyWorksheet):
            raise _unreadable()
        return _sheet_rows(book, sheet, max_rows, columns)
    except ValidationFailed:
        raise
    except Exception as exc:
        raise _unreadable() from exc
    finally:
        book.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def too_many_cells(row: int, max_cells: int, columns: int) -> ValidationFailed:
    return ValidationFailed(
        _(
            "Row %(row)s of the sheet has more than %(max)s cells; a time sheet has %(columns)s "
            "columns. Delete the cells right of the time-sheet columns (empty, formatted ones "
            "too) and import again."
        )
        % {"row": row, "max": max_cells, "columns": columns}
    )


def _bounded_rows(parser: Any, max_cells: int, columns: int) -> Iterator[tuple[int, list[Any]]]:
    """``parser.parse()`` for the rows alone, counting each row's cells (any child element:
    openpyxl parses every one as a cell) as the XML streams, before the row is built whole
    or a cell of it is parsed; the sheet's other elements are not needed here."""
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    row_tag = f"{{{SHEET_MAIN_NS}}}row"
    depth = 0
    # The innermost row being read: the depth of its cells (0: none), its number, its cells;
    # rows nested in it (openpyxl would read them too) put it on ``outer`` meanwhile.
    cell_depth = number = cells = 0
    outer: list[tuple[int, int, int]] = []
    for event, element in iterparse(parser.source, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth == cell_depth:
                cells += 1
                if cells > max_cells:
                    raise too_many_cells(number, max_cells, columns)
            if element.tag == row_tag:
                outer.append((cell_depth, number, cells))
                r = element.get("r", "")
                number = int(r) if r.isdigit() else parser.row_counter + 1
                cell_depth, cells = depth + 1, 0
        else:
            depth -= 1
            if element.tag == row_tag:
                cell_depth, number, cells = outer.pop()
                row = parser.parse_row(element)
                element.clear()
                yield row


def _sheet_rows(
    book: Any, sheet: Any, max_rows: int, columns: int
) -> tuple[list[Any], list[list[Any]]]:
    """Rows as openpyxl's sheet parser reads them: ``ReadOnlyWorksheet`` would size the
    sheet by ``<dimension>`` and pad every row to its last cell, so the parser's row reading
    is used as ``ReadOnlyWorksheet._cells_by_row`` uses it, its cells bounded while they
    stream (openpyxl is pinned in requirements.lock)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser

    header: list[Any] | None = None
    width = 0
    rows: list[list[Any]] = []
    formulas: list[str] = []
    max_read = ROWS_READ_PER_ROW * (max_rows + 1)
    read = 0
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=False,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for number, cells in _bounded_rows(parser, columns + CELLS_BEYOND_COLUMNS, columns):
            read += 1
            if read > max_read:
                raise ValidationFailed(
                    _(
                        "The sheet has more than %(max)s rows, empty ones included; delete "
                        "the empty rows between and below the time sheets and import again."
                    )
                    % {"max": max_read}
                )
            filled = {cell["column"]: cell for cell in cells if not _blank(cell["value"])}
            if not filled:
                continue
            formulas += [
                f"{get_column_letter(column)}{number}"
                for column, cell in sorted(filled.items())
                if cell["data_type"] == "f"
            ][: FORMULAS_LISTED + 1 - len(formulas)]
            if header is None:
                width = max(filled)
                header = [filled[c]["value"] if c in filled else None for c in range(1, width + 1)]
                continue
            beyond = [c for c in filled if c > width]
            if beyond:
                raise ValidationFailed(
                    _(
                        "Row %(row)s of the sheet has a value in column %(column)s, right of "
                        "the named columns; delete it and import again."
                    )
                    % {"row": number, "column": get_column_letter(min(beyond))}
                )
            rows.append([filled[c]["value"] if c in filled else None for c in range(1, width + 1)])
            if len(rows) > max_rows:
                raise too_many_rows(max_rows)
    if formulas:
        raise ValidationFailed(
            [
                _("Cell %(cell)s holds a formula.") % {"cell": cell}
                for cell in formulas[:FORMULAS_LISTED]
            ]
            + ([_("…")] if len(formulas) > FORMULAS_LISTED else [])
            + [
                _(
                    "Time sheets are imported as values: copy the cells and paste them as "
                    "values (Paste special → Values), then import again."
                )
            ]
        )
    return header or [], rows
