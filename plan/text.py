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


def _collapse(text: str) -> str:
    """Runs of white space as one space, trimmed (skipping the regex when there is nothing to collapse)."""
    if "  " in text or not text.isprintable():  # any white space but a lone " " is not printable
        text = _SPACES.sub(" ", text)
    return text.strip()


def clean(text: str) -> str:
    """NFC-normalise and collapse runs of white space (newlines included) to one space."""
    return _collapse(nfc(text))


def _fold_slowly(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")


# Latin letters (Vietnamese's among them), combining marks and general punctuation: each folds on its own,
# so a translation table gives the same result as decomposing the whole text, several times faster.
_FOLDED_RANGES = ((0x00A0, 0x0250), (0x0300, 0x0370), (0x1E00, 0x1F00), (0x2000, 0x2070))
_FOLD_TABLE = {cp: _fold_slowly(chr(cp)) for low, high in _FOLDED_RANGES for cp in range(low, high)}
_NOT_IN_TABLE = re.compile(
    r"[^\x00-\x7f" + "".join(rf"\u{low:04x}-\u{high - 1:04x}" for low, high in _FOLDED_RANGES) + "]"
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse white space: the key used for matching.

    The length of the result can differ from the input only through white-space
    collapsing, never through the removal of accents (each base letter stays).
    """
    lowered = text.lower()
    stripped = _fold_slowly(lowered) if _NOT_IN_TABLE.search(lowered) else lowered.translate(_FOLD_TABLE)
    return _collapse(stripped)
