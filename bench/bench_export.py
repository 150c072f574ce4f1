"""Ledger export of 1,000,000 postings as CSV, against the plainest program in the same run.

* ``export_ledger`` CSV rate (``write_ledger(fmt="csv")``, in-process) vs the plainest program
  that writes the same file: its own connection with the bare driver (``sqlite3`` /
  psycopg 3, a named server-side cursor), one hand-written SELECT over the same joins and
  order, ``fetchmany(5000)`` into ``csv.writer.writerows`` — no Django, no ORM. Both files
  must be byte-identical (their SHA-256 is compared). Target: ratio >= 0.7.
* django-import-export's default export (``PostingResource().export()``) over a sample,
  against the same baseline rate: expected < 0.1 (it builds a model instance and a tablib
  row per posting, all in memory).
* Peak RSS of a subprocess that runs the streaming CSV export of all postings (target
  <= 150 MB), next to the RSS of a subprocess that only starts Django.

The postings are generated once (raw bulk inserts, COPY on PostgreSQL: 100,000 balanced
vouchers of 10 postings in fiscal year 2031) into the benchmark database and reused by later
runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import Growth, Result

POSTINGS = int(os.environ.get("BENCH_EXPORT_POSTINGS", "1000000"))
PER_VOUCHER = 10
YEAR = 2031
SAMPLE = int(os.environ.get("BENCH_EXPORT_SAMPLE", "20000"))
#: Row counts (about: whole days of the year) exported before the whole ledger, to show growth.
GROWTH = [int(n) for n in os.environ.get("BENCH_EXPORT_GROWTH", "10000,100000").split(",") if n]
ROOT = Path(__file__).resolve().parent.parent


def _prepare() -> None:
    from django.core.management import call_command

    db = os.environ.get("DATABASE_URL", "")
    if db.startswith("sqlite:///"):
        Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def _generate() -> int:
    """Bulk-insert vouchers, postings and seals; returns the number of bench postings."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounting import db_guards
    from accounting.ledger import fiscal_year_for
    from accounting.models import Account, Dimension, DimensionObject, Posting, Voucher

    existing = Posting.objects.filter(voucher__fiscal_year__start__year=YEAR).count()
    if existing >= POSTINGS:
        return existing
    year = fiscal_year_for(dt.date(YEAR, 1, 1))
    accounts = dict(Account.objects.values_list("number", "pk"))
    debit = [accounts[n] for n in ("6710", "5010", "6110", "7010", "7510")]
    credit = accounts["1930"]
    fund_dim = Dimension.objects.get(number=Dimension.FUND)
    funds = [
        DimensionObject.objects.get_or_create(
            dimension=fund_dim, code=f"BENCH{i}", defaults={"name": f"Bench fund {i}"}
        )[0].pk
        for i in range(5)
    ]
    cost_centres = list(
        DimensionObject.objects.filter(dimension__number=Dimension.COST_CENTRE).values_list(
            "pk", flat=True
        )
    )
    rng = random.Random(7)
    v_table, p_table = Voucher._meta.db_table, Posting._meta.db_table
    seal_table = "accounting_voucherseal"
    start_number = (
        Voucher.objects.filter(fiscal_year=year)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    )
    vouchers = (POSTINGS - existing) // PER_VOUCHER
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    batch = 2000
    # Seals go in before their postings, so no deferred foreign key is outstanding: on
    # SQLite each outstanding one makes every seal insert scan the posting table (seal_id
    # has no index). The guards are off while the generator (balanced by construction)
    # writes, and back on before anything is read.
    db_guards.uninstall(connection)
    with connection.cursor() as cursor:
        for first in range(0, vouchers, batch):
            with transaction.atomic():
                numbers = range(
                    start_number + first + 1, start_number + min(first + batch, vouchers) + 1
                )
                _insert(
                    cursor,
                    v_table,
                    ("fiscal_year_id", "series", "number", "date", "text", "created_at"),
                    [
                        (
                            year.pk,
                            "C",
                            n,
                            ops.adapt_datefield_value(
                                dt.date(YEAR, 1, 1) + dt.timedelta(days=n % 365)
                            ),
                            f"Bidrag A-{YEAR}-{n:06d}",
                            now,
                        )
                        for n in numbers
                    ],
                )
                ids = dict(
                    Voucher.objects.filter(
                        fiscal_year=year, series="C", number__in=numbers
                    ).values_list("number", "pk")
                )
                _insert(
                    cursor,
                    seal_table,
                    ("voucher_id", "sealed_at"),
                    [(ids[n], now) for n in numbers],
                )
                rows: list[tuple[Any, ...]] = []
                for n in numbers:
                    vid = ids[n]
                    fund = rng.choice(funds)
                    for _line in range(PER_VOUCHER // 2):
                        cents = rng.randint(100, 2_000_000)
                        amount = ops.adapt_decimalfield_value(Decimal(cents) / 100, 14, 2)
                        minus = ops.adapt_decimalfield_value(Decimal(-cents) / 100, 14, 2)
                        cc = rng.choice(cost_centres)
                        rows.append((vid, vid, rng.choice(debit), amount, "SEK", fund, cc))
                        rows.append((vid, vid, credit, minus, "SEK", fund, None))
                _insert(
                    cursor,
                    p_table,
                    ("voucher_id", "seal_id", "account_id", "amount", "amount_currency",
                     "fund_object_id", "cost_centre_id"),
                    rows,
                )  # fmt: skip
    db_guards.install(connection)
    return Posting.objects.filter(voucher__fiscal_year__start__year=YEAR).count()


def _insert(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Rows into ``table`` in their order (so the ids follow it): COPY on PostgreSQL — a
    million postings in seconds, where ``executemany`` took minutes — ``executemany`` else."""
    names = ", ".join(columns)
    if cursor.db.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


#: The plain program's query: the export's columns, joins and order, written by hand.
PLAIN_SQL = """
SELECT v.series || v.number, {year}, v.date, a.number, {amount}, p.amount_currency,
       cc.code, pr.code, fo.code, app.reference
FROM accounting_posting p
JOIN accounting_voucher v ON v.id = p.voucher_id
JOIN accounting_fiscalyear fy ON fy.id = v.fiscal_year_id
JOIN accounting_account a ON a.id = p.account_id
LEFT JOIN accounting_dimensionobject cc ON cc.id = p.cost_centre_id
LEFT JOIN accounting_dimensionobject pr ON pr.id = p.project_id
LEFT JOIN accounting_dimensionobject fo ON fo.id = p.fund_object_id
LEFT JOIN accounting_paymentorder po ON po.voucher_id = v.id
LEFT JOIN fund_application app ON app.id = po.application_id
ORDER BY v.date, v.series, v.number, p.id
"""
PLAIN_HEADER = ("voucher", "fiscal_year", "date", "account", "amount", "currency",
                "cost_centre", "project", "fund", "case")  # fmt: skip


def _plain_csv(path: Path) -> tuple[int, float]:
    """The plainest program: bare driver, one SELECT, fetchmany into csv.writer.

    SQLite keeps ``numeric(14, 2)`` as REAL/INTEGER, so it prints the amount with two
    decimals itself; PostgreSQL's driver returns Decimal, which csv.writer spells as is.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    started = time.perf_counter()
    if db["ENGINE"].endswith("sqlite3"):
        import sqlite3

        conn: Any = sqlite3.connect(db["NAME"])
        cursor = conn.cursor()
        sql = PLAIN_SQL.format(year="substr(fy.start, 1, 4)", amount="printf('%.2f', p.amount)")
    else:
        import psycopg

        conn = psycopg.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"],
            host=db["HOST"], port=db["PORT"] or None,
        )  # fmt: skip
        cursor = conn.cursor(name="plain_ledger")  # server-side: memory stays flat
        sql = PLAIN_SQL.format(year="extract(year from fy.start)::int", amount="p.amount")
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLAIN_HEADER)
        cursor.execute(sql)
        while chunk := cursor.fetchmany(5000):
            writer.writerows(chunk)
            count += len(chunk)
    cursor.close()
    conn.close()
    return count, time.perf_counter() - started


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export_csv(path: Path) -> tuple[int, float]:
    from accounting.exports.ledger import write_ledger

    started = time.perf_counter()
    with open(path, "wb") as handle:
        summary = write_ledger(handle, fmt="csv")
    return summary.rows, time.perf_counter() - started


def _import_export_default() -> tuple[int, float]:
    from accounting.exports.resources import PostingResource

    queryset = PostingResource().get_queryset()[:SAMPLE]
    started = time.perf_counter()
    dataset = PostingResource().export(queryset=queryset)
    dataset.export("csv")
    return len(dataset), time.perf_counter() - started


_CHILD = """
import datetime as dt, os, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()
from accounting.exports.ledger import write_ledger

def status(key):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(key))

days = int(sys.argv[2])
start = dt.date(int(sys.argv[3]), 1, 1)
dates = {"date_from": start, "date_to": start + dt.timedelta(days=days - 1)} if days else {}
before = status("VmRSS:")
started = time.perf_counter()
with open(sys.argv[1], "wb") as handle:
    rows = write_ledger(handle, fmt="csv", **dates).rows
print(rows, before, status("VmHWM:"), time.perf_counter() - started)
"""


def _child_export(path: Path, days: int = 0) -> tuple[int, float, float, float]:
    """(rows, RSS before, peak RSS in MB, seconds) of a fresh interpreter exporting.

    ``days``: only the first days of the bench year; 0: the whole ledger.
    """
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(days), str(YEAR)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    rows, before, peak, seconds = int(out[-4]), int(out[-3]), int(out[-2]), float(out[-1])
    return rows, before / 1024, peak / 1024, seconds  # /proc reports KiB


def _growth(out: Path, total: int) -> list[Growth]:
    """The streaming export of the first days of the year (about GROWTH rows), then of all."""
    points = []
    for wanted in [n for n in GROWTH if n < total]:
        days = max(1, round(wanted / (total / 365)))
        rows, before, peak, seconds = _child_export(out / f"growth-{days}.csv", days)
        for _ in range(2 if seconds < 2 else 0):  # short runs: best of three against noise
            seconds = min(seconds, _child_export(out / f"growth-{days}.csv", days)[3])
        points.append(Growth("export_ledger --format csv", rows, seconds, peak - before))
    rows, before, peak, seconds = _child_export(out / "growth-all.csv")
    points.append(Growth("export_ledger --format csv", rows, seconds, peak - before))
    return points


def run() -> list[Result | Growth]:
    _prepare()
    started = time.perf_counter()
    total = _generate()
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        bare_rows, bare_s = _plain_csv(out / "bare.csv")
        rows, export_s = _export_csv(out / "export.csv")
        # A second round of each, alternating, so that caches favour neither.
        bare_rows2, bare_s2 = _plain_csv(out / "bare.csv")
        rows2, export_s2 = _export_csv(out / "export.csv")
        assert rows == bare_rows == rows2 == bare_rows2
        if _sha256(out / "bare.csv") != _sha256(out / "export.csv"):
            raise RuntimeError("the export and the plain program wrote different files")
        bare_rate = bare_rows / min(bare_s, bare_s2)
        export_rate = rows / min(export_s, export_s2)
        ie_rows, ie_s = _import_export_default()
        growth = _growth(out, total)
        child_rows, django_rss, export_rss, _s = _child_export(out / "child.csv")
        assert child_rows == rows
    return [
        Result(f"postings in the benchmark ledger (generated in {generated:.0f} s)", total, "rows"),
        Result(
            "plain program: bare driver cursor (sqlite3 / psycopg named cursor), hand-written "
            "SELECT, fetchmany(5000) -> csv.writer",
            bare_rate,
            "rows/s",
        ),
        Result(
            f"export_ledger --format csv ({rows:,} postings, in-process, same bytes)",
            export_rate,
            "rows/s",
            baseline=bare_rate,
            target="ratio >= 0.7",
        ),
        Result(
            f"django-import-export PostingResource.export ({ie_rows:,}-row sample)",
            ie_rows / ie_s,
            "rows/s",
            baseline=bare_rate,
            target="ratio < 0.1 expected",
        ),
        Result(
            "peak RSS, subprocess streaming the CSV export",
            export_rss,
            "MB",
            target="<= 150 MB",
        ),
        Result("RSS of that subprocess before the export (Django loaded)", django_rss, "MB"),
        *growth,
    ]
