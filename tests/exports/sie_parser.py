"""A strict SIE 4 reader for the tests: it refuses anything the spec (SIE 4B) does not allow.

Checks: CP437 bytes, LF line ends (no CR), ``#FLAGGA 0`` first, ``#FORMAT PC8``, the order
of record groups, known labels only, well-formed quoting (``\\"`` and ``\\\\`` are the only
escapes), amounts with at most two decimals and no thousands separator, valid dates,
``#VER`` followed by ``{`` … ``}`` holding ``#TRANS`` records only, every voucher summing to
exactly 0, and (type 4I) no balances.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal


class SieSyntaxError(ValueError):
    def __init__(self, line_no: int, message: str):
        super().__init__(f"line {line_no}: {message}")


_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")
_DATE = re.compile(r"^\d{8}$")

#: Record groups in the order they must appear; a group may be absent, never out of order.
GROUP = {
    "#FLAGGA": 0,
    "#PROGRAM": 1,
    "#FORMAT": 1,
    "#GEN": 1,
    "#SIETYP": 1,
    "#PROSA": 1,
    "#ORGNR": 1,
    "#FNAMN": 1,
    "#RAR": 2,
    "#OMFATTN": 2,
    "#KPTYP": 3,
    "#KONTO": 4,
    "#KTYP": 4,
    "#DIM": 5,
    "#OBJEKT": 5,
    "#IB": 6,
    "#UB": 6,
    "#RES": 6,
    "#VER": 7,
}
BALANCE_LABELS = {"#IB", "#UB", "#RES", "#PSALDO", "#OIB", "#OUB"}


@dataclass
class Trans:
    account: str
    objects: dict[int, str]
    amount: Decimal


@dataclass
class Ver:
    series: str
    number: str
    date: dt.date
    text: str
    regdate: dt.date | None
    trans: list[Trans] = field(default_factory=list)


@dataclass
class SieFile:
    flagga: str = ""
    program: list[str] = field(default_factory=list)
    format: str = ""
    gen: str = ""
    sietyp: str = ""
    orgnr: str = ""
    fnamn: str = ""
    prosa: str = ""
    omfattn: dt.date | None = None
    rar: dict[int, tuple[dt.date, dt.date]] = field(default_factory=dict)
    kptyp: str = ""
    accounts: dict[str, str] = field(default_factory=dict)
    ktyp: dict[str, str] = field(default_factory=dict)
    dims: dict[int, str] = field(default_factory=dict)
    objects: dict[tuple[int, str], str] = field(default_factory=dict)
    ib: dict[str, Decimal] = field(default_factory=dict)
    ub: dict[str, Decimal] = field(default_factory=dict)
    res: dict[str, Decimal] = field(default_factory=dict)
    vouchers: list[Ver] = field(default_factory=list)


Token = tuple[str, object]  # ("text"|"word"|"list", value)


def tokenize(line: str, line_no: int) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(line)
    while i < n:
        char = line[i]
        if char == " ":
            i += 1
            continue
        if char == '"':
            i += 1
            out: list[str] = []
            while True:
                if i >= n:
                    raise SieSyntaxError(line_no, "unterminated quoted text")
                c = line[i]
                if c == "\\":
                    if i + 1 >= n or line[i + 1] not in '"\\':
                        raise SieSyntaxError(line_no, "a backslash must escape a quote or itself")
                    out.append(line[i + 1])
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                out.append(c)
                i += 1
            if i < n and line[i] != " ":
                raise SieSyntaxError(line_no, "text must be followed by a space")
            tokens.append(("text", "".join(out)))
        elif char == "{":
            end = _matching_brace(line, i, line_no)
            inner = tokenize(line[i + 1 : end], line_no)
            if any(kind == "list" for kind, _v in inner):
                raise SieSyntaxError(line_no, "object lists do not nest")
            tokens.append(("list", [str(v) for _k, v in inner]))
            i = end + 1
        elif char == "}":
            raise SieSyntaxError(line_no, "unbalanced }")
        else:
            j = i
            while j < n and line[j] not in ' "{}':
                j += 1
            if j < n and line[j] in '"{':
                raise SieSyntaxError(line_no, "missing space before a field")
            tokens.append(("word", line[i:j]))
            i = j
    return tokens


def _matching_brace(line: str, start: int, line_no: int) -> int:
    i = start + 1
    quoted = False
    while i < len(line):
        c = line[i]
        if quoted:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "}":
            return i
        i += 1
    raise SieSyntaxError(line_no, "unterminated object list")


def _date(value: object, line_no: int) -> dt.date:
    text = str(value)
    if not _DATE.match(text):
        raise SieSyntaxError(line_no, f"bad date {text!r}")
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise SieSyntaxError(line_no, f"bad date {text!r}") from exc


def _amount(value: object, line_no: int) -> Decimal:
    text = str(value)
    if not _AMOUNT.match(text):
        raise SieSyntaxError(line_no, f"bad amount {text!r}")
    return Decimal(text)


def _account(value: object, line_no: int) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{4}", text):
        raise SieSyntaxError(line_no, f"bad account {text!r}")
    return text


def _expect(tokens: list[Token], kinds: str, line_no: int, label: str) -> list[object]:
    """kinds: one letter per field: w word, t text, q word-or-text, l list; '?' suffix optional."""
    values: list[object] = []
    spec = kinds.split()
    required = [k for k in spec if not k.endswith("?")]
    if len(tokens) < len(required) or len(tokens) > len(spec):
        raise SieSyntaxError(line_no, f"{label}: expected {kinds!r}, got {len(tokens)} fields")
    for (kind, value), want in zip(tokens, spec, strict=False):
        want = want.rstrip("?")
        if want == "w" and kind != "word":
            raise SieSyntaxError(line_no, f"{label}: expected a plain field")
        if want == "t" and kind != "text":
            raise SieSyntaxError(line_no, f"{label}: expected a quoted text")
        if want == "q" and kind not in ("word", "text"):
            raise SieSyntaxError(line_no, f"{label}: expected a field")
        if want == "l" and kind != "list":
            raise SieSyntaxError(line_no, f"{label}: expected an object list")
        values.append(value)
    return values


def parse(data: bytes, *, expect_type: str | None = None) -> SieFile:
    if b"\r" in data:
        raise SieSyntaxError(0, "lines must end in LF only")
    if not data.endswith(b"\n"):
        raise SieSyntaxError(0, "the last line must end in LF")
    text = data.decode("cp437")
    sie = SieFile()
    group = -1
    open_ver: Ver | None = None
    in_block = False
    seen_flagga = False
    for line_no, line in enumerate(text.split("\n")[:-1], start=1):
        if not line:
            raise SieSyntaxError(line_no, "empty line")
        if line != line.strip():
            raise SieSyntaxError(line_no, "leading or trailing blanks")
        if line == "{":
            if open_ver is None or in_block:
                raise SieSyntaxError(line_no, "{ must follow #VER")
            in_block = True
            continue
        if line == "}":
            if not in_block or open_ver is None:
                raise SieSyntaxError(line_no, "} without {")
            total = sum((t.amount for t in open_ver.trans), Decimal("0"))
            if total != 0:
                raise SieSyntaxError(line_no, f"voucher does not balance: {total}")
            if len(open_ver.trans) < 2:
                raise SieSyntaxError(line_no, "a voucher needs at least two #TRANS")
            sie.vouchers.append(open_ver)
            open_ver, in_block = None, False
            continue
        label, _sep, rest = line.partition(" ")
        tokens = tokenize(rest, line_no)
        if not seen_flagga:
            if label != "#FLAGGA":
                raise SieSyntaxError(line_no, "#FLAGGA must come first")
            seen_flagga = True
        if in_block:
            if label != "#TRANS":
                raise SieSyntaxError(line_no, f"{label} inside a voucher")
            assert open_ver is not None
            account, objects, amount = _expect(tokens, "w l w w? t? w? t?", line_no, label)[:3]
            pairs = list(objects)  # type: ignore[call-overload]
            if len(pairs) % 2:
                raise SieSyntaxError(line_no, "object list needs dimension/object pairs")
            object_map = {int(pairs[k]): pairs[k + 1] for k in range(0, len(pairs), 2)}
            for dim, code in object_map.items():
                if (dim, code) not in sie.objects:
                    raise SieSyntaxError(line_no, f"undeclared object {dim}/{code}")
            open_ver.trans.append(
                Trans(_account(account, line_no), object_map, _amount(amount, line_no))
            )
            continue
        if open_ver is not None:
            raise SieSyntaxError(line_no, "#VER must be followed by {")
        if label not in GROUP:
            raise SieSyntaxError(line_no, f"unknown or misplaced label {label}")
        if GROUP[label] < group:
            raise SieSyntaxError(line_no, f"{label} out of order")
        group = GROUP[label]
        _record(sie, label, tokens, line_no)
        if label == "#VER":
            values = _expect(tokens, "q w w t w? q?", line_no, label)
            series, number, date, vtext = values[:4]
            regdate = values[4] if len(values) > 4 else None
            open_ver = Ver(
                series=str(series),
                number=str(number),
                date=_date(date, line_no),
                text=str(vtext),
                regdate=_date(regdate, line_no) if regdate is not None else None,
            )
    if in_block or open_ver is not None:
        raise SieSyntaxError(0, "file ends inside a voucher")
    if sie.format != "PC8":
        raise SieSyntaxError(0, "#FORMAT PC8 is required")
    if sie.sietyp != "4":
        raise SieSyntaxError(0, "#SIETYP 4 is required")
    if expect_type == "4I":
        if sie.ib or sie.ub or sie.res:
            raise SieSyntaxError(0, "SIE 4I carries no balances")
        if not sie.vouchers:
            raise SieSyntaxError(0, "SIE 4I needs at least one #VER")
    for number in sie.ktyp:
        if number not in sie.accounts:
            raise SieSyntaxError(0, f"#KTYP for undeclared account {number}")
    return sie


def _record(sie: SieFile, label: str, tokens: list[Token], line_no: int) -> None:
    if label == "#FLAGGA":
        (value,) = _expect(tokens, "w", line_no, label)
        if value not in ("0", "1"):
            raise SieSyntaxError(line_no, "#FLAGGA is 0 or 1")
        sie.flagga = str(value)
    elif label == "#PROGRAM":
        sie.program = [str(v) for v in _expect(tokens, "q q", line_no, label)]
    elif label == "#FORMAT":
        (sie.format,) = (str(v) for v in _expect(tokens, "w", line_no, label))
    elif label == "#GEN":
        values = _expect(tokens, "w q?", line_no, label)
        _date(values[0], line_no)
        sie.gen = str(values[0])
    elif label == "#SIETYP":
        (sie.sietyp,) = (str(v) for v in _expect(tokens, "w", line_no, label))
    elif label == "#ORGNR":
        sie.orgnr = str(_expect(tokens, "q w? w?", line_no, label)[0])
    elif label == "#FNAMN":
        sie.fnamn = str(_expect(tokens, "t", line_no, label)[0])
    elif label == "#RAR":
        number, start, end = _expect(tokens, "w w w", line_no, label)
        sie.rar[int(str(number))] = (_date(start, line_no), _date(end, line_no))
    elif label == "#PROSA":
        sie.prosa = str(_expect(tokens, "t", line_no, label)[0])
    elif label == "#OMFATTN":
        (value,) = _expect(tokens, "w", line_no, label)
        sie.omfattn = _date(value, line_no)
    elif label == "#KPTYP":
        sie.kptyp = str(_expect(tokens, "q", line_no, label)[0])
    elif label == "#KONTO":
        number, name = _expect(tokens, "w t", line_no, label)
        sie.accounts[_account(number, line_no)] = str(name)
    elif label == "#KTYP":
        number, kind = _expect(tokens, "w w", line_no, label)
        if kind not in ("T", "S", "K", "I"):
            raise SieSyntaxError(line_no, "#KTYP is T, S, K or I")
        sie.ktyp[_account(number, line_no)] = str(kind)
    elif label == "#DIM":
        number, name = _expect(tokens, "w t", line_no, label)
        sie.dims[int(str(number))] = str(name)
    elif label == "#OBJEKT":
        number, code, name = _expect(tokens, "w t t", line_no, label)
        if int(str(number)) not in sie.dims:
            raise SieSyntaxError(line_no, "#OBJEKT of an undeclared dimension")
        sie.objects[(int(str(number)), str(code))] = str(name)
    elif label in ("#IB", "#UB", "#RES"):
        year, account, amount = _expect(tokens, "w w w w?", line_no, label)[:3]
        if int(str(year)) not in sie.rar:
            raise SieSyntaxError(line_no, f"{label} for an undeclared year")
        target = {"#IB": sie.ib, "#UB": sie.ub, "#RES": sie.res}[label]
        account = _account(account, line_no)
        if account not in sie.accounts:
            raise SieSyntaxError(line_no, f"{label} for undeclared account {account}")
        if year == "0":
            target[account] = _amount(amount, line_no)
