"""A keyed blind index of a person's name words, so staff can find a person by name while the
name itself stays encrypted.

Each word of the name is normalised the way Swedish users compare names, then hashed with the
blind-index key (``core.crypto.blind_index``, the personnummer index's key) under its own
prefix, so a name word can never equal a personnummer's index. The stored index is the sorted,
space-separated set of those hashes; a search hashes the typed words the same way and asks for
each one (every typed word must be a whole word of the name).

Normalisation: Unicode NFKC and case folding ("ÅSA" finds "åsa"); å, ä and ö are letters of
their own ("Åsa" does not find "Asa", "Öberg" does not find "Oberg"); æ and ø count as ä and ö,
as Swedish collation has them; other marks are only accents ("Andre" finds "André", "Muller"
finds "Müller"); hyphens, apostrophes and other punctuation separate or vanish ("Anna-Karin"
is the words anna and karin; "O'Brien" is obrien).
"""

from __future__ import annotations

import re
import unicodedata

from django.views.decorators.debug import sensitive_variables

from core.crypto import blind_index

#: At most this many words of a name are indexed (and searched).
MAX_WORDS = 12

_RING = "\u030a"
_DIAERESIS = "\u0308"
#: Base letters whose ring or diaeresis makes a Swedish letter of its own (å, ä, ö).
_SWEDISH = {"a": (_RING, _DIAERESIS), "o": (_DIAERESIS,)}
_FOLDED_LETTERS = str.maketrans({"æ": "ä", "ø": "ö"})
_APOSTROPHES = re.compile("['\u2019\u02bc`\u00b4]")
_WORD = re.compile(r"\w+")


def _without_accents(word: str) -> str:
    """Drop accents, but keep å, ä and ö (recomposed) as the letters they are in Swedish."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", word):
        if unicodedata.combining(char):
            base = kept[-1] if kept else ""
            if char in _SWEDISH.get(base, ()):
                kept.append(char)
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@sensitive_variables()
def name_words(text: str) -> list[str]:
    """The name's words as compared: folded case, Swedish letters kept, accents dropped."""
    folded = unicodedata.normalize("NFKC", text or "").casefold().translate(_FOLDED_LETTERS)
    folded = _APOSTROPHES.sub("", folded)
    words: list[str] = []
    for raw in _WORD.findall(folded):
        word = _without_accents(raw).replace("_", "")
        if word and not word.isdigit() and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


@sensitive_variables()
def name_word_hashes(text: str) -> list[str]:
    """The blind index of each word of ``text`` (for a stored name or a typed search)."""
    return [blind_index(f"name:{word}") for word in name_words(text)]


@sensitive_variables()
def name_index(name: str) -> str:
    """What ``Beneficiary.name_index`` holds for this name ("" for no name)."""
    return " ".join(sorted(set(name_word_hashes(name))))
