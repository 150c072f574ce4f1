"""SIE 4 (full ledger with balances) and SIE 4I (vouchers only), per the SIE 4B spec.

Rules this writer keeps (and ``tests/exports/sie_parser.py`` checks):

* The file is CP437 (``#FORMAT PC8``), fields are separated by one space, lines end in LF.
* Text fields are quoted; inside them a backslash is written ``\\\\`` and a quote ``\\"``.
  Tabs and line breaks become spaces. A character CP437 cannot hold is transliterated
  (``€`` → ``EUR``, typographic quotes and dashes → ASCII) or else replaced by ``?``; the
  number of such replacements is reported and audited, never silently dropped.
* Order: ``#FLAGGA 0``; identification ``#PROGRAM #FORMAT #GEN #SIETYP #ORGNR #FNAMN``;
  ``#RAR 0`` and ``#RAR -1`` (the fiscal year immediately before, its dates even when the
  ledger has no vouchers in it); ``#KPTYP``; the chart
  (``#KONTO`` + ``#KTYP``); ``#DIM`` and ``#OBJEKT``; for type 4 only ``#IB``/``#UB`` for
  balance sheet accounts (1xxx-2xxx) and ``#RES`` for result accounts (3xxx-8xxx);
  then ``#VER`` blocks.
* Dimensions as the ledger numbers them: 1 cost centre (purpose / fundraising /
  administration), 6 project (an ESF project's code), 20 fund / programme (a free
  dimension, one object per fund).
* Amounts: ``.`` decimal point, two decimals, ``-`` for credits, no thousands separator.
* ``#SIETYP 4`` in both files; what makes a file "4I" is its content (no balances) and its
  use (import). Voucher numbers are kept in 4I too, for traceability; the receiving program
  may renumber.
* ``#KPTYP`` names the BAS version the chart follows, ``settings.LEDGER_CHART_TYPE``
  (``BAS2026`` by default); the whole chart is sent in ``#KONTO`` records as well, so a
  receiver that does not know the name loses nothing.
* ``#KSUMMA`` is not written: the spec's rule for which characters enter the CRC (quotes,
  braces, escaped characters) could not be stated precisely enough here to promise a
  checksum a receiver will accept. A file without ``#KSUMMA`` is valid SIE.

Refusals (``ExportRefused``, nothing written):

* a voucher in the range that does not balance to exactly 0 or has fewer than two postings
  (checked before writing, and again per voucher while streaming);
* a posting in another currency than SEK;
* type 4 over part of a year: balances are for the whole year, so ``--from``/``--to``
  are only for 4I;
* a year that does not exist, or a range outside it.

An open year (a period still open) is exported as bookkeeping programs do: preliminary,
with the vouchers and balances as of the export date (``as_of``, today by default, at most
the year's last day): ``#UB``/``#RES`` are the balances so far, vouchers dated later are left
out (and counted in the summary's warnings), the header says so in ``#PROSA`` and
``#OMFATTN`` (the date the balances cover, SIE 4B), and the audit event records
``preliminary`` and ``as_of``. A closed year's file is the year-closing export, unchanged.

Opening balances (``#IB``): every earlier balance sheet posting, per account. A closed year
(``accounting.year_end``) has booked its result to ``2069`` with ``8999`` in series E, so
its result accounts sum to 0 and the next year's ``#IB`` equals its ``#UB`` account by
account. For a year after one not closed yet, the earlier results still sit on the result
accounts: ``#IB`` adds their sum to ``2067`` (balanserat kapital), as a closing would have.
Either way the ``#IB`` records sum to 0, and ``sum(#UB) + sum(#RES) = 0`` as a reader expects.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.exports import ExportRefused
from accounting.models import (
    Account,
    AccountType,
    Dimension,
    DimensionObject,
    FiscalYear,
    Period,
    Posting,
    Voucher,
)
from fund.money import CURRENCY, quantize

ZERO = Decimal("0.00")
PROGRAM = "Fundflow"
PROGRAM_VERSION = "0.1.0"
RETAINED_EARNINGS = "2067"
CHUNK = 2000

TYPE_4 = "4"
TYPE_4I = "4I"
TYPES = (TYPE_4, TYPE_4I)

KTYP = {
    AccountType.ASSET: "T",
    AccountType.LIABILITY: "S",
    AccountType.EQUITY: "S",
    AccountType.INCOME: "I",
    AccountType.EXPENSE: "K",
}

#: Characters CP437 lacks that have an honest ASCII spelling.
TRANSLITERATE = {
    "€": "EUR",
    "\u2013": "-",
    "\u2014": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2026": "...",
    "\u00a0": " ",
}


@dataclass
class SieSummary:
    sie_type: str
    year: int
    date_from: dt.date
    date_to: dt.date
    vouchers: int = 0
    transactions: int = 0
    accounts: int = 0
    objects: int = 0
    replaced_characters: int = 0
    preliminary: bool = False
    as_of: dt.date | None = None
    warnings: list[str] = field(default_factory=list)


class _Text:
    """CP437-safe quoting, counting what had to be replaced."""

    def __init__(self) -> None:
        self.replaced = 0

    def clean(self, value: str) -> str:
        out: list[str] = []
        for char in value:
            if char in "\t\r\n":
                out.append(" ")
                continue
            try:
                char.encode("cp437")
            except UnicodeEncodeError:
                self.replaced += 1
                out.append(TRANSLITERATE.get(char, "?"))
            else:
                out.append(char)
        return "".join(out)

    def quote(self, value: str) -> str:
        text = self.clean(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'


def sie_amount(value: Decimal) -> str:
    amount = quantize(value)
    if amount == 0:
        return "0.00"
    return f"{amount:.2f}"


def sie_date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


# --------------------------------------------------------------------------------------
# Checks before anything is written
# --------------------------------------------------------------------------------------


def _year(year: int) -> FiscalYear:
    fiscal_year = FiscalYear.objects.filter(start__year=year).first()
    if fiscal_year is None:
        raise ExportRefused(_("There is no fiscal year %(year)s in the ledger.") % {"year": year})
    return fiscal_year


def _check_range(
    fiscal_year: FiscalYear, sie_type: str, date_from: dt.date | None, date_to: dt.date | None
) -> tuple[dt.date, dt.date]:
    start = date_from or fiscal_year.start
    end = date_to or fiscal_year.end
    if start > end or start < fiscal_year.start or end > fiscal_year.end:
        raise ExportRefused(
            _("The range %(start)s - %(end)s is not within the fiscal year %(fy)s.")
            % {"start": start, "end": end, "fy": fiscal_year}
        )
    if sie_type == TYPE_4 and (start, end) != (fiscal_year.start, fiscal_year.end):
        raise ExportRefused(
            _(
                "SIE 4 carries the whole year's balances (#IB/#UB/#RES) and cannot be cut to "
                "%(start)s - %(end)s; export type 4I for part of a year."
            )
            % {"start": start, "end": end}
        )
    return start, end


def previous_year_dates(fiscal_year: FiscalYear) -> tuple[dt.date, dt.date]:
    """The fiscal year immediately before (``#RAR -1``), even if the ledger has no such year:
    the year ending the day before, else the same length of year one year earlier."""
    day_before = fiscal_year.start - dt.timedelta(days=1)
    previous = FiscalYear.objects.filter(end=day_before).first()
    if previous is not None:
        return previous.start, previous.end
    start = fiscal_year.start
    try:
        return start.replace(year=start.year - 1), day_before
    except ValueError:  # a year starting on 29 February
        return start.replace(year=start.year - 1, day=28), day_before


def is_closed_year(fiscal_year: FiscalYear) -> bool:
    """Every period of the year is closed: its balances are final (the year-closing export)."""
    periods = Period.objects.filter(fiscal_year=fiscal_year)
    return periods.exists() and not periods.filter(closed_at__isnull=True).exists()


def preliminary_as_of(fiscal_year: FiscalYear, as_of: dt.date | None) -> dt.date:
    """The date an open year's balances are taken at: the export date, within the year."""
    day = as_of or timezone.localdate()
    return min(max(day, fiscal_year.start), fiscal_year.end)


def unbalanced_vouchers(vouchers: QuerySet[Voucher]) -> list[str]:
    """Labels of vouchers whose postings do not sum to exactly 0 (or are fewer than two).

    The sum is rounded to öre: SQLite adds decimals as binary floats, so 167 248.48 +
    338 994.32 - 506 242.80 comes out a hair from 0 there (PostgreSQL's numeric is exact).
    """
    rows = (
        Voucher.objects.filter(pk__in=vouchers.values("pk"))
        .annotate(total=Round(Sum("postings__amount"), 2), n=Count("postings"))
        .filter(~Q(total=0) | Q(total__isnull=True) | Q(n__lt=2))
        .order_by("series", "number")
        .values_list("series", "number")[:20]
    )
    return [f"{series}{number}" for series, number in rows]


def _preflight(fiscal_year: FiscalYear, start: dt.date, end: dt.date) -> None:
    vouchers = Voucher.objects.filter(fiscal_year=fiscal_year, date__range=(start, end))
    bad = unbalanced_vouchers(vouchers)
    if bad:
        raise ExportRefused(
            _(
                "Export refused: these vouchers do not balance to 0 and would make the file "
                "wrong: %(vouchers)s. Have the ledger checked before exporting."
            )
            % {"vouchers": ", ".join(bad)}
        )
    foreign = (
        Posting.objects.filter(voucher__in=vouchers)
        .exclude(amount_currency=CURRENCY)
        .values_list("voucher__series", "voucher__number")[:20]
    )
    if foreign:
        raise ExportRefused(
            _("Export refused: postings in another currency than SEK on %(vouchers)s.")
            % {"vouchers": ", ".join(f"{s}{n}" for s, n in foreign)}
        )


# --------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------


def _sums(postings: Any) -> dict[str, Decimal]:
    rows = (
        postings.order_by()
        .values("account__number")
        .annotate(total=Sum("amount"))
        .values_list("account__number", "total")
    )
    return {number: quantize(total or ZERO) for number, total in rows}


def is_balance_account(number: str) -> bool:
    return number[0] in "12"


def balances(
    fiscal_year: FiscalYear, as_of: dt.date | None = None
) -> tuple[dict[str, Decimal], dict[str, Decimal], dict]:
    """(#IB, #UB, #RES) for the year, per account, without zero rows; ``as_of``: #UB/#RES
    of the vouchers dated up to that day only (an open year's preliminary balances)."""
    earlier = _sums(Posting.objects.filter(voucher__date__lt=fiscal_year.start))
    year_postings = Posting.objects.filter(voucher__fiscal_year=fiscal_year)
    if as_of is not None:
        year_postings = year_postings.filter(voucher__date__lte=as_of)
    this_year = _sums(year_postings)
    opening: dict[str, Decimal] = {}
    earlier_result = ZERO
    for number, total in earlier.items():
        if is_balance_account(number):
            opening[number] = opening.get(number, ZERO) + total
        else:
            earlier_result += total
    if earlier_result:
        opening[RETAINED_EARNINGS] = opening.get(RETAINED_EARNINGS, ZERO) + earlier_result
    closing = dict(opening)
    result: dict[str, Decimal] = {}
    for number, total in this_year.items():
        if is_balance_account(number):
            closing[number] = closing.get(number, ZERO) + total
        else:
            result[number] = total
    return (
        {k: v for k, v in sorted(opening.items()) if v},
        {k: v for k, v in sorted(closing.items()) if v},
        {k: v for k, v in sorted(result.items()) if v},
    )


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _object_list(cost_centre: str | None, project: str | None, fund: str | None, q: _Text) -> str:
    pairs = []
    for number, code in (
        (Dimension.COST_CENTRE, cost_centre),
        (Dimension.PROJECT, project),
        (Dimension.FUND, fund),
    ):
        if code:
            pairs.append(f"{number} {q.quote(code)}")
    return "{" + " ".join(pairs) + "}"


def _voucher_rows(fiscal_year: FiscalYear, start: dt.date, end: dt.date) -> Iterator[tuple]:
    return (
        Posting.objects.filter(voucher__fiscal_year=fiscal_year, voucher__date__range=(start, end))
        .order_by("voucher__series", "voucher__number", "id")
        .values_list(
            "voucher_id",
            "voucher__series",
            "voucher__number",
            "voucher__date",
            "voucher__text",
            "voucher__created_at",
            "account__number",
            "amount",
            "cost_centre__code",
            "project__code",
            "fund_object__code",
        )
        .iterator(chunk_size=CHUNK)
    )


def _progress(source: Iterator[tuple], progress: Callable[[int], None] | None) -> Iterator[tuple]:
    if progress is None:
        return source
    from accounting.exports.ledger import counted

    return counted(source, progress)


def write_sie(
    out: IO[bytes],
    *,
    year: int,
    sie_type: str = TYPE_4,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    preliminary: bool = False,
    as_of: dt.date | None = None,
) -> SieSummary:
    """Write the SIE file to the binary stream ``out``; refuse before writing if wrong.

    Type 4 of a year with an open period is preliminary, whatever ``preliminary`` says: its
    vouchers and #UB/#RES run to ``as_of`` (the export date by default), as a bookkeeping
    program exports an open year. ``preliminary=True`` marks a closed year's file so too.
    """
    sie_type = sie_type.upper()
    if sie_type not in TYPES:
        raise ExportRefused(_("The SIE type must be 4 or 4I."))
    fiscal_year = _year(year)
    start, end = _check_range(fiscal_year, sie_type, date_from, date_to)
    balances_as_of: dt.date | None = None
    if sie_type == TYPE_4 and not is_closed_year(fiscal_year):
        preliminary = True
        balances_as_of = preliminary_as_of(fiscal_year, as_of)
        end = balances_as_of
    _preflight(fiscal_year, start, end)

    summary = SieSummary(
        sie_type=sie_type,
        year=year,
        date_from=start,
        date_to=end,
        preliminary=preliminary,
        as_of=balances_as_of,
    )
    q = _Text()
    text = io.TextIOWrapper(out, encoding="cp437", errors="strict", newline="\n")

    def w(*fields: str) -> None:
        text.write(" ".join(fields) + "\n")

    w("#FLAGGA", "0")
    w("#PROGRAM", q.quote(PROGRAM), q.quote(PROGRAM_VERSION))
    w("#FORMAT", "PC8")
    w("#GEN", sie_date(timezone.localdate()))
    w("#SIETYP", "4")
    if balances_as_of is not None:
        w("#PROSA", q.quote(_preliminary_note(fiscal_year, balances_as_of)))
    w("#ORGNR", settings.FOUNDATION_ORGNR)
    w("#FNAMN", q.quote(settings.FOUNDATION_NAME))
    w("#RAR", "0", sie_date(fiscal_year.start), sie_date(fiscal_year.end))
    previous_start, previous_end = previous_year_dates(fiscal_year)
    w("#RAR", "-1", sie_date(previous_start), sie_date(previous_end))
    if balances_as_of is not None:
        w("#OMFATTN", sie_date(balances_as_of))
    w("#KPTYP", settings.LEDGER_CHART_TYPE)
    for number, name, kind in Account.objects.order_by("number").values_list(
        "number", "name", "type"
    ):
        w("#KONTO", number, q.quote(name))
        w("#KTYP", number, KTYP[AccountType(kind)])
        summary.accounts += 1
    for dim, name in Dimension.objects.order_by("number").values_list("number", "name"):
        w("#DIM", str(dim), q.quote(name))
    for dim, code, name in DimensionObject.objects.order_by(
        "dimension__number", "code"
    ).values_list("dimension__number", "code", "name"):
        w("#OBJEKT", str(dim), q.quote(code), q.quote(name))
        summary.objects += 1
    if sie_type == TYPE_4:
        opening, closing, result = balances(fiscal_year, balances_as_of)
        for number, amount in opening.items():
            w("#IB", "0", number, sie_amount(amount))
        for number, amount in closing.items():
            w("#UB", "0", number, sie_amount(amount))
        for number, amount in result.items():
            w("#RES", "0", number, sie_amount(amount))

    current: int | None = None
    total = ZERO
    label = ""
    for (
        voucher_id,
        series,
        number,
        date,
        voucher_text,
        created_at,
        account,
        amount,
        cost_centre,
        project,
        fund,
    ) in _progress(_voucher_rows(fiscal_year, start, end), progress):
        if voucher_id != current:
            if current is not None:
                _close_voucher(w, total, label)
            current, total, label = voucher_id, ZERO, f"{series}{number}"
            regdate = timezone.localtime(created_at).date() if created_at else date
            w(
                "#VER",
                q.quote(series),
                str(number),
                sie_date(date),
                q.quote(voucher_text),
                sie_date(regdate),
            )
            w("{")
            summary.vouchers += 1
        amount = quantize(amount)
        total += amount
        w("#TRANS", account, _object_list(cost_centre, project, fund, q), sie_amount(amount))
        summary.transactions += 1
    if current is not None:
        _close_voucher(w, total, label)
    if sie_type == TYPE_4I and summary.vouchers == 0:
        raise ExportRefused(
            _("SIE 4I needs at least one voucher, and %(start)s - %(end)s has none.")
            % {"start": start, "end": end}
        )
    text.flush()
    text.detach()
    if balances_as_of is not None:
        _note_later_vouchers(summary, fiscal_year, balances_as_of)
    summary.replaced_characters = q.replaced
    if q.replaced:
        summary.warnings.append(
            _("%(n)s characters CP437 cannot hold were transliterated or replaced by “?”.")
            % {"n": q.replaced}
        )
    return summary


def _preliminary_note(fiscal_year: FiscalYear, as_of: dt.date) -> str:
    return _(
        "Preliminary: the fiscal year %(year)s is not closed; balances and vouchers as of %(date)s."
    ) % {"year": f"{fiscal_year.start:%Y}", "date": as_of.isoformat()}


def _note_later_vouchers(summary: SieSummary, fiscal_year: FiscalYear, as_of: dt.date) -> None:
    later = Voucher.objects.filter(fiscal_year=fiscal_year, date__gt=as_of).count()
    if later:
        summary.warnings.append(
            _("%(n)s vouchers dated after %(date)s are not in this preliminary file.")
            % {"n": later, "date": as_of.isoformat()}
        )


def _close_voucher(w: Any, total: Decimal, label: str) -> None:
    if total != 0:
        raise ExportRefused(
            _("Export refused: voucher %(v)s does not balance (sum %(sum)s).")
            % {"v": label, "sum": total}
        )
    w("}")
