"""Re-importing a revised plan: which stored task each row of the new file is, by content, not by number.

Codes come from row numbers ("II.3" is the third row of section II): a clerk who inserts one row renumbers
everything after it. A task keeps its identity (history, status, extensions) when its content and lead
unit are the same or nearly the same, whatever its number. Pure: stored tasks and new rows in, a
:class:`Rematch` out.

How a row finds its task, in this order:

1. the admin's choice (``--match OLD=NEW``, ``OLD=-``: OLD has no successor, ``-=NEW``: NEW is new);
2. the same content (accent-folded, lower-case, punctuation and spacing ignored) and the same lead units:
   certain (several such tasks pair in plan order); so is the same content under the same code;
3. nearly the same content (``difflib`` ratio on the folded text, computed for the few stored texts sharing the
   most words with the row) and the same lead units, with no rival
   close to it: certain when the ratio is at least ``CERTAIN``, or at least ``LIKELY`` under the same code;
4. anything else at least ``ASK`` alike (or the same content under a different lead unit): uncertain, asked,
   never guessed: the import waits for ``--match`` (or the web preview's choice);
5. the rest: new rows and removed tasks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from plan.text import fold

CERTAIN = 0.85  # nearly the same content, same lead: the same task
LIKELY = 0.6  # same code, same lead, and this alike: the same task, reworded
ASK = 0.5  # below this, two texts are different tasks
RIVAL_MARGIN = 0.05  # a second candidate this close makes a match uncertain
CANDIDATES = 8  # stored texts compared letter by letter with each new row: those sharing the most words
WORDS_ALIKE = 0.3  # and sharing at least this much of their words (Dice coefficient)
NONE = "-"

_PUNCTUATION = re.compile(r"[^\w\s]")


def normalise(text: str) -> str:
    """The text compared: accent-folded, lower-case, without punctuation, single spaces."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


@dataclass(frozen=True)
class Row:
    """A task as matching sees it: code, content, lead unit codes, the row it came from."""

    code: str
    content: str
    lead: tuple[str, ...]
    row: int | None = None


@dataclass(frozen=True)
class Pair:
    old: str  # the stored task's code
    new: str  # the code it has in the new file
    similarity: float
    how: str  # "same" | "similar" | "chosen"


@dataclass(frozen=True)
class Question:
    """A new row that may be a stored task: the admin says which (``--match OLD=NEW``) or none."""

    new: str
    candidates: tuple[tuple[str, float], ...]  # (old code, similarity), best first


@dataclass
class Rematch:
    pairs: list[Pair] = field(default_factory=list)
    new: list[str] = field(default_factory=list)  # codes in the new file with no stored task
    removed: list[str] = field(default_factory=list)  # stored codes with no row in the new file
    questions: list[Question] = field(default_factory=list)

    def successor(self) -> dict[str, str]:
        """new code -> old code, for every pair."""
        return {pair.new: pair.old for pair in self.pairs}

    @property
    def renumbered(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.old != pair.new]


class MatchError(ValueError):
    """A ``--match`` that names a code the plan or the file does not have; the message is Vietnamese."""


def _ratio(a: str, b: str) -> float:
    return round(SequenceMatcher(None, a, b, autojunk=False).ratio(), 3)


def parse_choices(values: Iterable[str]) -> dict[str, str]:
    """``["I.1=I.2", "I.5=-", "-=I.9"]`` -> {"I.1": "I.2", "I.5": "-", "-I.9": ...}: old -> new, with
    ``-=NEW`` kept as ``{"-NEW": NEW}`` (NEW is a new task)."""
    choices: dict[str, str] = {}
    for value in values:
        old, sep, new = value.partition("=")
        old, new = old.strip().upper(), new.strip().upper()
        if not sep or not old or not new or (old == NONE and new == NONE):
            raise MatchError(
                f"--match '{value}' không đúng dạng: ghi MÃ_CŨ=MÃ_MỚI (ví dụ I.1=I.2), MÃ_CŨ=- hoặc -=MÃ_MỚI."
            )
        choices[f"{NONE}{new}" if old == NONE else old] = new
    return choices


def rematch(old: Sequence[Row], new: Sequence[Row], choices: Mapping[str, str] | None = None) -> Rematch:
    """Pair stored tasks with the rows of a new file (see the module)."""
    choices = dict(choices or {})
    result = Rematch()
    old_by_code = {row.code: row for row in old}
    new_by_code = {row.code: row for row in new}
    open_old = dict(old_by_code)
    open_new = dict(new_by_code)
    for key, target in choices.items():
        if key.startswith(NONE):
            if target not in new_by_code:
                raise MatchError(f"--match -={target}: tệp mới không có nhiệm vụ mã {target}.")
            open_new.pop(target, None)
            result.new.append(target)
            continue
        if key not in old_by_code:
            raise MatchError(f"--match {key}={target}: kế hoạch đang lưu không có nhiệm vụ mã {key}.")
        if target == NONE:
            open_old.pop(key, None)
            result.removed.append(key)
            continue
        if target not in new_by_code:
            raise MatchError(f"--match {key}={target}: tệp mới không có nhiệm vụ mã {target}.")
        if target not in open_new or key not in open_old:
            raise MatchError(f"--match {key}={target}: mỗi nhiệm vụ chỉ ghép được một lần.")
        similarity = _ratio(normalise(old_by_code[key].content), normalise(new_by_code[target].content))
        result.pairs.append(Pair(key, target, similarity, "chosen"))
        del open_old[key], open_new[target]

    # 2. the same content and lead units
    by_text: dict[tuple[str, tuple[str, ...]], list[Row]] = {}
    for row in open_old.values():
        by_text.setdefault((normalise(row.content), tuple(sorted(row.lead))), []).append(row)
    for row in list(open_new.values()):
        same = by_text.get((normalise(row.content), tuple(sorted(row.lead))))
        if same:
            chosen = next((r for r in same if r.code == row.code), same[0])
            same.remove(chosen)
            result.pairs.append(Pair(chosen.code, row.code, 1.0, "same"))
            del open_old[chosen.code], open_new[row.code]

    # the same content under the same code, whatever the lead unit (reassigned): the same task
    for code in [c for c in open_new if c in open_old]:
        if normalise(open_old[code].content) == normalise(open_new[code].content):
            result.pairs.append(Pair(code, code, 1.0, "same"))
            del open_old[code], open_new[code]

    # 3-4. nearly the same: every remaining pair scored, the best first
    old_texts = {code: normalise(row.content) for code, row in open_old.items()}
    old_words = {code: frozenset(text.split()) for code, text in old_texts.items()}
    scored: list[tuple[float, bool, str, str]] = []
    for new_code, row in open_new.items():
        text = normalise(row.content)
        words = frozenset(text.split())
        # Only the few stored texts sharing the most words are compared letter by letter (difflib is slow:
        # a revised plan of 10,000 tasks with hundreds of reworded rows would take minutes otherwise).
        shared = sorted(
            (
                (2 * len(words & other) / (len(words) + len(other) or 1), old_code)
                for old_code, other in old_words.items()
            ),
            reverse=True,
        )
        candidates = [old_code for dice, old_code in shared[:CANDIDATES] if dice >= WORDS_ALIKE]
        for old_code in candidates:
            old_text = old_texts[old_code]
            matcher = SequenceMatcher(None, old_text, text, autojunk=False)
            if matcher.real_quick_ratio() < ASK or matcher.quick_ratio() < ASK:
                continue
            ratio = matcher.ratio()
            if ratio >= ASK:
                same_lead = set(open_old[old_code].lead) == set(row.lead)
                scored.append((ratio, same_lead, old_code, new_code))
    scored.sort(key=lambda s: (-s[0], s[2], s[3]))
    best_for_new: dict[str, list[tuple[float, bool, str]]] = {}
    best_for_old: dict[str, list[tuple[float, bool, str]]] = {}
    for ratio, same_lead, old_code, new_code in scored:
        best_for_new.setdefault(new_code, []).append((ratio, same_lead, old_code))
        best_for_old.setdefault(old_code, []).append((ratio, same_lead, new_code))
    asked: set[str] = set()
    for ratio, same_lead, old_code, new_code in scored:
        if old_code not in open_old or new_code not in open_new or new_code in asked:
            continue
        rivals = [
            r
            for r, _, other in best_for_new[new_code]
            if other != old_code and other in open_old and r > ratio - RIVAL_MARGIN
        ] + [
            r
            for r, _, other in best_for_old[old_code]
            if other != new_code and other in open_new and r > ratio - RIVAL_MARGIN
        ]
        threshold = LIKELY if old_code == new_code else CERTAIN
        if same_lead and ratio >= threshold and not rivals:
            result.pairs.append(Pair(old_code, new_code, round(ratio, 3), "similar"))
            del open_old[old_code], open_new[new_code]
        else:
            asked.add(new_code)
    for new_code in sorted(asked, key=lambda c: list(new_by_code).index(c)):
        offered = tuple(
            (old_code, round(ratio, 3))
            for ratio, _, old_code in best_for_new[new_code]
            if old_code in open_old
        )
        if offered:
            result.questions.append(Question(new_code, offered))
            del open_new[new_code]
    asked_old = {code for q in result.questions for code, _ in q.candidates}
    result.new.extend(code for code in open_new)
    result.removed.extend(code for code in open_old if code not in asked_old)
    order = {code: index for index, code in enumerate(new_by_code)}
    result.pairs.sort(key=lambda p: order.get(p.new, 0))
    return result
