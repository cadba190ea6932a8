"""The one base class for errors a user can fix.

Anything raised as a :class:`UserError` carries a message written for office
staff (Vietnamese, one sentence). The CLI prints it without a traceback and
exits non-zero; any other exception is a bug.

An error raised low (the store, the planner) describes the problem; what to do
about it depends on where the user is, so it names the remedy as a :class:`Fix`
and each edge says it in its own words: the CLI names a command
(``cli.common.FIX_HINTS``), the web a page or a button (``web.deps.FIX_HINTS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self


@dataclass(frozen=True)
class Fix:
    """A remedy, by name (``init``, ``set_due``, ``extend``...), with the values an edge's wording needs."""

    action: str
    values: dict[str, str] = field(default_factory=dict)


class UserError(Exception):
    """An error caused by input the user can correct (a file, a code, a date)."""

    fix: Fix | None = None

    def with_fix(self, action: str, **values: str) -> Self:
        """This error, naming its remedy (``raise TaskError("...").with_fix("set_due", task="IV.4")``)."""
        self.fix = Fix(action, values)
        return self


def say(error: BaseException, hints: dict[str, str]) -> str:
    """The error's sentence followed by its remedy in the words of one edge (``hints``: action -> template).

    A message that names a remedy ends where the remedy goes ("...: ", "...; ", "... ."); without a hint for
    it the sentence is closed with a full stop."""
    text = str(error)
    fix = getattr(error, "fix", None)
    if fix is None:
        return text
    hint = hints.get(fix.action)
    if hint is None:
        return text.rstrip(" ;:,") + ("" if text.rstrip().endswith(".") else ".")
    return f"{text.rstrip()} {hint.format(**fix.values)}"


def causes(error: BaseException, depth: int | None = None) -> list[BaseException]:
    """``error`` and what caused it (``__cause__``, else ``__context__``), each once, at most ``depth`` links:
    what a library wrapped (aiosmtplib the socket's error, a reader its MemoryError) is judged too."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and (depth is None or len(chain) < depth):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
