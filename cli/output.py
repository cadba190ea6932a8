"""Output for big work streams: JSON written as it goes, tables a person can read, progress on a terminal.

- :func:`write_json` / :func:`write_jsonl`: compact JSON (the C encoder, one item at a time, flushed in
  chunks) or JSON Lines, never one huge string in memory.
- :func:`print_rows`: a Rich table up to :data:`TABLE_LIMIT` rows; past it the first rows, a summary and
  a sentence saying how to see everything (``--all``); with ``--all`` past the limit, plain aligned
  columns streamed line by line (a Rich table of 200,000 rows takes minutes).
- :func:`progress`: a transient progress line on stderr when it is a terminal, nothing otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from rich.table import Table

from cli.common import console, err_console

TABLE_LIMIT = 300  # rows a table shows before it summarises (``--all`` shows every row)
_CHUNK = 2000

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def write_json(items: Iterable[Any], out: TextIO | None = None) -> int:
    """``[item,item,...]`` compact, written in chunks as the items come; returns how many."""
    out = out or sys.stdout
    count = 0
    chunk: list[str] = []
    out.write("[")
    for item in items:
        chunk.append(_encode(item))
        count += 1
        if len(chunk) >= _CHUNK:
            out.write(("," if count > len(chunk) else "") + ",".join(chunk))
            chunk.clear()
    if chunk:
        out.write(("," if count > len(chunk) else "") + ",".join(chunk))
    out.write("]\n")
    out.flush()
    return count


def write_json_document(value: Any, out: TextIO | None = None) -> None:
    """One JSON document, compact (the C encoder: an indented dump of a big plan is many times slower)."""
    out = out or sys.stdout
    out.write(_encode(value) + "\n")
    out.flush()


def write_jsonl(items: Iterable[Any], out: TextIO | None = None) -> int:
    """One compact JSON object a line (JSON Lines), written in chunks; returns how many."""
    out = out or sys.stdout
    count = 0
    chunk: list[str] = []
    for item in items:
        chunk.append(_encode(item))
        count += 1
        if len(chunk) >= _CHUNK:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")
    out.flush()
    return count


def print_rows(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    show_all: bool = False,
    summary: Callable[[], Iterable[str]] | None = None,
    hint: str = "",
    out: TextIO | None = None,
) -> None:
    """A table for a person (see the module docstring); ``summary`` gives the lines shown past the limit,
    ``hint`` what else shows the rest (e.g. "--json")."""
    if len(rows) <= TABLE_LIMIT:
        _rich_table(headers, rows, title)
        return
    if show_all:
        plain_table(headers, rows, title=title, out=out)
        return
    _rich_table(headers, rows[:TABLE_LIMIT], title)
    for line in summary() if summary else ():
        console.print(line, highlight=False, markup=False)
    more = f" ({hint})" if hint else ""
    console.print(
        f"Chỉ in {TABLE_LIMIT} dòng đầu trong {len(rows)} dòng: thêm --all để in hết{more}.",
        highlight=False,
        markup=False,
    )


def _rich_table(headers: Sequence[str], rows: Iterable[Sequence[str]], title: str | None) -> None:
    table = Table(*headers, title=title)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def plain_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    out: TextIO | None = None,
    widest: int = 60,
) -> None:
    """Aligned columns separated by two spaces, written line by line (cells longer than ``widest`` cut)."""
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = min(widest, len(cell))
    last = len(headers) - 1

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            if len(cell) > widest:
                cell = cell[: widest - 1] + "…"
            parts.append(cell if i == last else cell.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    if title:
        out.write(title + "\n")
    out.write(line(headers) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    buffer: list[str] = []
    for row in rows:
        buffer.append(line(row))
        if len(buffer) >= _CHUNK:
            out.write("\n".join(buffer) + "\n")
            buffer.clear()
    if buffer:
        out.write("\n".join(buffer) + "\n")
    out.flush()


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A transient progress line on stderr when it is a terminal: ``advance(done, what, total)``; a no-op
    otherwise."""
    if not err_console.is_terminal:
        yield lambda done, what=None, total=None: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(done: int, what: str | None = None, total: int | None = None) -> None:
            bar.update(task, completed=done, description=what or description, total=total)

        yield advance
