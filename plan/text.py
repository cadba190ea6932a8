"""Vietnamese text helpers shared by every parser and lookup.

Everything that enters nhacviec is NFC-normalised (Word and web forms often
produce NFD, where "ế" is "e" + two combining marks). For matching, text is
also *folded*: lower-cased, diacritics removed ("đ" -> "d") and white space
collapsed, so "Phòng TCCB", "phong  tccb" and "PHÒNG TCCB" compare equal.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC form."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC-normalise and collapse runs of white space (newlines included) to one space."""
    return _SPACES.sub(" ", nfc(text)).strip()


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse white space: the key used for matching.

    The length of the result can differ from the input only through white-space
    collapsing, never through the removal of accents (each base letter stays).
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d")
    return _SPACES.sub(" ", stripped).strip()
