"""Hypothesis strategies for bad input: text people (and attackers) really send."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from moneyed import Money


def fuzz(max_examples: int) -> settings:
    """Hypothesis settings of the bad-input properties: the same examples every run (CI
    repeats what it found), no deadline, and fixtures shared by a property's examples."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


#: Inputs that broke or nearly broke parsers somewhere: control characters, NUL, bidi
#: overrides, formula injection, markup, SQL, numbers in other scripts, huge exponents.
NASTY = [
    "",
    " ",
    "\x00",
    "1\x00",
    "\r\n",
    "\t",
    "\u202e1234",
    "\ufeff100",
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    "<script>alert(1)</script>",
    "'; DROP TABLE fund_application; --",
    "٣٤٥",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # full-width digits
    "²³",
    "NaN",
    "-Infinity",
    "inf",
    "sNaN",
    "1e400",
    "1E+30",
    "-0",
    "0.001",
    "1 000,50",
    "12,345.67",
    "99999999999999999999999999999999",
    "A" * 5000,
    "💶" * 300,
]

# Any Unicode text, including control characters and unpaired surrogates are left out
# (they cannot be encoded as UTF-8, so no request can carry them).
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
long_text = st.builds(
    lambda ch, n: ch * n, st.characters(exclude_categories=["Cs"]), st.integers(250, 20_000)
)
text = st.one_of(any_text, st.sampled_from(NASTY), long_text)

#: Amounts as people write them, valid or nearly.
plausible_amount = st.one_of(
    st.integers(1, 30_000).map(str),
    st.decimals(places=2, min_value=Decimal("0.01"), max_value=30_000).map(str),
    st.integers(1, 30_000).map(lambda n: f"{n // 100} {n % 100:03d},50"),
)
#: Anything in an amount's place: half of the time a plausible one.
amount = st.one_of(
    plausible_amount,
    st.one_of(
        text,
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**6),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(),
        st.none(),
        st.builds(
            Money,
            st.decimals(places=2, min_value=1, max_value=1000),
            st.sampled_from(["EUR", "SEK", "USD"]),
        ),
        st.sampled_from([Decimal("1e-9"), Decimal("12.34"), Decimal("1E+2")]),
    ),
)


#: What arrives where an id (a number in a form or a query) is expected.
bad_id = st.one_of(
    st.sampled_from(
        ["", "abc", "²", "٣", "-1", "0", "1.5", "1e3", "9223372036854775808", "1\x00", " 1 "]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    text,
)
#: What arrives where a page of this site is expected (a "back" link).
bad_url = st.one_of(
    st.sampled_from(
        [
            "https://evil.example/",
            "//evil.example/x",
            "javascript:alert(1)",
            "/worklist/\r\nSet-Cookie: x=1",
            "\x00",
            "http://testserver/worklist/",
        ]
    ),
    text,
)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """Three times in four a plausible value, else a bad one (so tries get past the first
    check often enough to reach the later ones)."""
    return st.integers(0, 3).flatmap(lambda n: bad if n == 0 else good)


#: Names as people write them.
name = st.from_regex(r"[A-Za-zÅÄÖåäöéü][A-Za-zÅÄÖåäöéü .'-]{0,40}", fullmatch=True)


#: Anything a JSON body or a Python caller could put where a value is expected.
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text, st.decimals()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
