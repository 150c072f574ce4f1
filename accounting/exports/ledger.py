"""Posting rows as CSV, XLSX or JSON Lines, streamed with constant memory.

A row carries no personal data: voucher, date, account, amount, currency, the dimension
objects (cost centre, project, fund) and at most the case reference (A-…) of a payout.
XLSX and JSON Lines read rows with ``values_list(...).iterator(chunk_size=…)`` (typed values:
dates, Decimals) and write them one by one: openpyxl in write-only mode (rows go to a
temporary sheet file, not to memory), one ``json.dumps`` per line. CSV, the bulk format, reads
the same query with every cell already spelt as text by the database (:func:`csv_chunks`) and
hands whole chunks to ``csv.writer``: no per-row Python work at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import IO, Any

from django.db import connections
from django.db.models import CharField, Func, IntegerField, QuerySet
from django.db.models.functions import Cast, Concat, ExtractYear
from django.utils.translation import gettext as _

from accounting.exports import ExportRefused
from accounting.models import Posting

CHUNK = 5000
FORMATS = ("csv", "xlsx", "jsonl")

#: Column names of every format, in order.
COLUMNS = (
    "voucher",
    "fiscal_year",
    "date",
    "account",
    "amount",
    "currency",
    "cost_centre",
    "project",
    "fund",
    "case",
)

#: The raw columns behind COLUMNS, as the ORM path (:func:`rows`) reads them.
FIELDS = (
    "voucher__series",
    "voucher__number",
    "voucher__fiscal_year__start",
    "voucher__date",
    "account__number",
    "amount",
    "amount_currency",
    "cost_centre__code",
    "project__code",
    "fund_object__code",
    "voucher__payment_order__application__reference",
)


@dataclass
class LedgerSummary:
    fmt: str
    rows: int = 0


def postings(date_from: dt.date | None = None, date_to: dt.date | None = None) -> QuerySet:
    queryset = Posting.objects.all()
    if date_from:
        queryset = queryset.filter(voucher__date__gte=date_from)
    if date_to:
        queryset = queryset.filter(voucher__date__lte=date_to)
    return queryset.order_by("voucher__date", "voucher__series", "voucher__number", "id")


def rows(date_from: dt.date | None = None, date_to: dt.date | None = None) -> Iterator[tuple]:
    """One tuple per posting, in COLUMNS order, straight from the database.

    The voucher label (series + number) and the fiscal year are computed in SQL, so rows
    need no work in Python; missing dimensions are None. Both backends return the
    MoneyField's ``numeric(14, 2)`` as a Decimal in öre (Django's SQLite converter
    quantizes), so no per-row rounding is needed.
    """
    return (
        postings(date_from, date_to)
        .annotate(
            export_voucher=Concat(
                "voucher__series",
                Cast("voucher__number", output_field=CharField()),
                output_field=CharField(),
            ),
            export_year=ExtractYear("voucher__fiscal_year__start"),
        )
        .values_list(
            "export_voucher",
            "export_year",
            *FIELDS[3:],
        )
        .iterator(chunk_size=CHUNK)
    )


class YearOf(Func):
    """The year of a date as an integer, by the database's own functions.

    Django's ``ExtractYear`` on SQLite calls a Python function for every row; here SQLite
    cuts the year out of its ISO date text.
    """

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(substr(%(expressions)s, 1, 4) AS integer)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(EXTRACT(YEAR FROM %(expressions)s) AS integer)"
        return self.as_sql(compiler, connection, template=template, **extra)


class AmountText(Func):
    """An amount in öre spelt as Decimal spells it (``-1234.50``), by the database.

    SQLite keeps a ``numeric(14, 2)`` as REAL or INTEGER (``100`` for 100.00), so it is
    printed with two decimals; PostgreSQL's ``numeric`` text already has them. The query
    runs with parameters, so the cursor turns ``%%`` into ``%``.
    """

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "printf('%%%%.2f', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(%(expressions)s AS text)"
        return self.as_sql(compiler, connection, template=template, **extra)


class DateText(Func):
    """A date as ISO text (``2026-01-31``), by the database.

    Django's SQLite connection parses every column declared ``date`` into a ``datetime.date``
    in Python (a converter per row); an expression has no declared type, so the text stays.
    """

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(%(expressions)s AS text)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "to_char(%(expressions)s, 'YYYY-MM-DD')"
        return self.as_sql(compiler, connection, template=template, **extra)


def csv_chunks(
    date_from: dt.date | None = None, date_to: dt.date | None = None
) -> Iterator[list[tuple]]:
    """The rows of :func:`rows`, CHUNK at a time, every cell as the CSV file spells it.

    The ORM's query with the year and the amount spelt by the database, run on a chunked
    cursor (server-side on PostgreSQL) without Django's per-row converters: the export is
    then as fast as a plain driver cursor feeding ``csv.writer`` (bench/bench_export.py).
    ``tests/exports/test_ledger_export.py`` checks the bytes equal the ORM path's.
    """
    queryset = (
        postings(date_from, date_to)
        .annotate(
            export_voucher=Concat(
                "voucher__series",
                Cast("voucher__number", output_field=CharField()),
                output_field=CharField(),
            ),
            export_year=YearOf("voucher__fiscal_year__start"),
            export_date=DateText("voucher__date"),
            export_amount=AmountText("amount"),
        )
        .values_list(
            "export_voucher", "export_year", "export_date", "account__number", "export_amount",
            *FIELDS[6:],
        )
    )  # fmt: skip
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            yield chunk


def csv_from_rows(out: IO[bytes], source: Iterator[tuple]) -> int:
    """csv.writer straight over typed rows (None is written as an empty field).

    The ORM path's CSV: :func:`write_csv` must write the same bytes from :func:`rows`.
    """
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    counter = itertools.count()
    # zip() with a counter and map(itemgetter) count in C, without a Python step per row.
    writer.writerows(map(itemgetter(0), zip(source, counter, strict=False)))
    text.flush()
    text.detach()
    return next(counter)


def write_csv(
    out: IO[bytes],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The CSV file from :func:`csv_chunks`, a whole chunk per ``writerows`` call."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    count = 0
    for chunk in csv_chunks(date_from, date_to):
        writer.writerows(chunk)
        count += len(chunk)
        if progress is not None:
            progress(count)
    if progress is not None and not count:
        progress(0)
    text.flush()
    text.detach()
    return count


def _jsonl(out: IO[bytes], source: Iterator[tuple]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    count = 0
    for row in source:
        record: dict[str, Any] = dict(zip(COLUMNS, row, strict=True))
        record["date"] = record["date"].isoformat()
        record["amount"] = str(record["amount"])
        text.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    text.flush()
    text.detach()
    return count


def _xlsx(out: IO[bytes], source: Iterator[tuple]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="postings")
    sheet.append(list(COLUMNS))
    count = 0
    for row in source:
        values = list(row)
        amount = WriteOnlyCell(sheet, value=values[4])
        amount.number_format = "0.00"
        date = WriteOnlyCell(sheet, value=values[2])
        date.number_format = "yyyy-mm-dd"
        values[4] = amount
        values[2] = date
        sheet.append(values)
        count += 1
    workbook.save(out)
    return count


WRITERS = {"csv": csv_from_rows, "jsonl": _jsonl, "xlsx": _xlsx}


def write_ledger(
    out: IO[bytes],
    *,
    fmt: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> LedgerSummary:
    """Write the posting rows; ``progress(rows_so_far)`` is called every PROGRESS_EVERY rows
    (for CSV: after every chunk of CHUNK rows)."""
    if fmt not in WRITERS:
        raise ExportRefused(_("The format must be one of: %(f)s.") % {"f": ", ".join(FORMATS)})
    if date_from and date_to and date_from > date_to:
        raise ExportRefused(_("The start date is after the end date."))
    summary = LedgerSummary(fmt=fmt)
    if fmt == "csv":
        summary.rows = write_csv(out, date_from, date_to, progress)
        return summary
    source = rows(date_from, date_to)
    if progress is not None:
        source = counted(source, progress)
    summary.rows = WRITERS[fmt](out, source)
    return summary


#: How many rows between two progress reports.
PROGRESS_EVERY = 2000


def counted(source: Iterator[tuple], progress: Callable[[int], None]) -> Iterator[tuple]:
    """The rows of ``source`` unchanged, reporting the count every PROGRESS_EVERY rows."""
    count = 0
    for row in source:
        yield row
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress(count)
    progress(count)
