"""Reading untrusted values at the services' edge: ids, lists of entries, quoted values.

Services are called by pages, the API, commands and tests with whatever those were given.
These helpers turn a value into what the service needs, or say it cannot, so a refusal is
always a ``ValidationFailed`` in words and never a ``TypeError`` from deep inside.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

#: The largest id a database key holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def shown(value: Any, limit: int = 40) -> str:
    """A refused value as a message quotes it: control characters as "?", at most ``limit``
    characters (a 20 000-character paste is not echoed back whole)."""
    text = "".join(
        "?" if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_id(value: Any) -> int | None:
    """A database id from an int or a string of ASCII digits; None for anything else.

    ``"²"`` and ``"٣"`` are digits to ``str.isdigit`` but no id; ``True`` is no id either.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def as_entries(value: Any) -> list[Mapping[str, Any]] | None:
    """A list of mappings (``[{"item": 3, "amount": "100"}, …]``); None when it is not one."""
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return None
    if not all(isinstance(entry, Mapping) for entry in value):
        return None
    return list(value)


def clean_text(
    value: Any,
    problems: list[str],
    *,
    field: str,
    max_length: int,
    multiline: bool = False,
) -> str:
    """Text as a person typed it, stripped; a problem is added to ``problems`` (and "" is
    returned) when it is not text, holds control characters (NUL, escape codes; line breaks
    too unless ``multiline``) or is longer than ``max_length``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(_("%(field)s: “%(v)s” is not text.") % {"field": field, "v": shown(value)})
        return ""
    text = value.strip()
    allowed = "\n\r\t" if multiline else ""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        problems.append(
            _("%(field)s: control characters (such as NUL or line breaks) are not allowed.")
            % {"field": field}
        )
        return ""
    if len(text) > max_length:
        problems.append(
            _("%(field)s: at most %(n)s characters (this is %(length)s).")
            % {"field": field, "n": max_length, "length": len(text)}
        )
        return ""
    return text
