"""plan.text.fold: the translation table gives exactly what decomposing the whole text gives."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan.text import fold


def _reference(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")
    return re.sub(r"\s+", " ", stripped).strip()


@pytest.mark.parametrize(
    "text",
    ["Quý III/2020", "ĐỘT XUẤT", "Qúy", "Phòng TCCB – “x”", "İstanbul", "Σίσυφος", "  a\u0301  b "],
)
def test_fold_of_typical_and_odd_text_matches_the_reference(text: str) -> None:
    assert fold(text) == _reference(text)
    assert fold(unicodedata.normalize("NFD", text)) == _reference(text)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2100)))
def test_fold_of_any_text_matches_the_reference(text: str) -> None:
    assert fold(text) == _reference(text)
