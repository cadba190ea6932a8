"""Jinja's sandbox with limits: a template an admin writes cannot exhaust memory or time.

Jinja's own sandbox stops unsafe attribute access but not ``{{ 'a' * 1000000000 }}``
(a gigabyte string), ``{{ 10 ** 10 ** 10 }}``, a doubling loop, three nested loops of
a thousand, or a recursive macro. :class:`BoundedSandbox` refuses each of them before
the work is done, with a Vietnamese sentence (:class:`TemplateLimitError`) naming the
bound:

- string and list multiplication, ``+``, ``~``, ``%`` formatting, ``join``, ``replace``,
  ``center``/``ljust``/``rjust``/``zfill``/``indent``/``format`` widths: a result longer
  than :data:`MAX_STRING` characters (or items) is refused before it is built;
- integer ``*`` and ``**``: a result over :data:`MAX_INT_BITS` bits is refused;
- ``range``: at most :data:`MAX_RANGE` numbers; every ``{% for %}`` of a render counts
  its iterations (:data:`MAX_ITERATIONS` in all);
- the output of a render (and of every macro, ``{% set %}`` block or filter block) is at
  most :data:`MAX_OUTPUT` characters;
- the weight of a value (the characters of every string inside it plus one per item, a shared
  part counted each time it appears, as printing it would) is at most :data:`MAX_WEIGHT`:
  ``[s] * n``, ``+`` of lists, the input of the filters that print, copy or walk a whole value
  (``string``, ``tojson``, ``pprint``, ``join``, ``sum``, ``map``, ``list``, ``sort``...) and
  the items a lazy filter (``map``, ``select``, ``batch``...) yields; printing ``{{ value }}``
  of a list or dict is bounded by :data:`MAX_OUTPUT` before it is turned into text;
- ``%``, ``format``, ``format_map``: widths and precisions (``%.*d``, ``{x:{w}}``) and the
  output's length (fields x the largest argument) are pre-checked; ``translate`` too;
- filters with a cost of their own: ``batch`` fills at most :data:`MAX_STRING` items,
  ``wordwrap`` takes at most :data:`MAX_WRAP` characters, ``sum`` over lists is linear and
  checks the size and the clock at every item;
- a macro calling itself without end is one Vietnamese sentence, not Python's RecursionError;
- time: every loop step, call, lazy filter item and output piece checks a deadline
  (:data:`RENDER_SECONDS` per render, or the caller's :func:`render_limits` scope around many
  renders, as validation and the web's preview use).

What the sandbox misses cannot stall a server: validation and previews run in a child process
with a time and a memory limit (web.isolation, ``nhacviec templates validate``).

``lipsum`` is not offered (it is a generator of any size).
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes, pass_environment, pass_eval_context
from jinja2.environment import Environment, Template
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

MAX_STRING = 1_000_000  # characters of one string, or items of one list, built by a template
MAX_OUTPUT = 2_000_000  # characters a render (or a macro, a block) produces
MAX_RANGE = 10_000  # numbers of one range()
MAX_ITERATIONS = 1_000_000  # loop steps of one render, all loops together
MAX_INT_BITS = 4_096  # bits of an integer a template computes
MAX_WEIGHT = 10_000_000  # characters plus items inside one value a template builds, walks or yields
MAX_WRAP = 100_000  # characters given to wordwrap (textwrap is slow: ~25 us a character at width 1)
MAX_DEPTH = 64  # lists inside lists a template may weigh
RENDER_SECONDS = 5.0  # one render's time, unless a render_limits scope sets it
_CHECK_EVERY = 256  # loop steps between two looks at the clock


class TemplateLimitError(SecurityError):
    """A template went past one of the sandbox's bounds; the message is one Vietnamese sentence."""


@dataclass
class _Budget:
    deadline: float
    seconds: float
    iterations: int = 0

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise TemplateLimitError(
                f"Mẫu lặp quá {MAX_ITERATIONS:,} vòng khi dựng một thông báo: hãy bớt vòng lặp lồng nhau."
            )
        if self.iterations % _CHECK_EVERY == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(
                f"Mẫu dựng quá {self.seconds:g} giây: hãy bớt vòng lặp, macro gọi lại chính nó hoặc phép tính lớn."
            )


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("template_budget", default=None)


@contextmanager
def render_limits(seconds: float | None = None) -> Iterator[None]:
    """Renders inside share one deadline (and one loop count) of ``seconds`` (default RENDER_SECONDS);
    nested scopes keep the outer one."""
    if _budget.get() is not None:
        yield
        return
    seconds = RENDER_SECONDS if seconds is None else seconds
    token = _budget.set(_Budget(time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _budget.reset(token)


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:  # outside BoundedTemplate.render (a macro called from Python): a budget of its own
        budget = _Budget(time.monotonic() + RENDER_SECONDS, RENDER_SECONDS)
    return budget


def _too_long(what: int, limit: int = MAX_STRING) -> None:
    if what > limit:
        raise TemplateLimitError(
            f"Mẫu tạo ra một chuỗi hoặc danh sách dài {what:,} (quá giới hạn {limit:,}): "
            "hãy bỏ phép nhân chuỗi, nối chuỗi lặp lại hoặc độ rộng quá lớn."
        )


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | bytes) else 0


def _too_heavy(weight: int, limit: int = MAX_WEIGHT) -> None:
    if weight > limit:
        raise TemplateLimitError(
            f"Mẫu tạo hoặc in ra một giá trị nặng {weight:,} ký tự và phần tử (quá giới hạn {limit:,}): "
            "hãy bỏ phép nhân danh sách, danh sách chuỗi dài hoặc bộ lọc trên dữ liệu lớn."
        )


_CONTAINERS = (list, tuple, dict, set, frozenset)
_EAGER = frozenset({str, Markup, int, float, bool, list, tuple, dict, type(None)})


def _weigh(value: Any, limit: int, memo: dict[int, int], depth: int) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if not isinstance(value, _CONTAINERS):
        return 1
    known = memo.get(id(value))
    if known is not None:
        return known
    if depth > MAX_DEPTH:
        raise TemplateLimitError(f"Mẫu lồng danh sách quá {MAX_DEPTH} tầng: hãy dùng danh sách phẳng hơn.")
    total = len(value)
    items = value.items() if isinstance(value, dict) else value
    for item in items:
        total += _weigh(item, limit, memo, depth + 1)
        if total > limit:
            break  # past the bound: the caller refuses, the rest need not be counted
    memo[id(value)] = total
    return total


def weight(value: Any, limit: int = MAX_WEIGHT) -> int:
    """The characters of the strings inside ``value`` plus one per item (counted up to just past ``limit``);
    a part shared by reference is weighed once but counted each time it appears."""
    if isinstance(value, str):
        return len(value)
    return _weigh(value, limit, {}, 0)


def _heavy(value: Any, limit: int = MAX_WEIGHT) -> None:
    if not isinstance(value, str):
        _too_heavy(weight(value, limit), limit)


def _int_too_big(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateLimitError(
            f"Mẫu tính ra một số quá lớn (hơn {MAX_INT_BITS:,} bit): hãy bỏ phép luỹ thừa hoặc nhân lặp lại."
        )


_BIG_NUMBER = re.compile(r"\d+")
# a width or precision taken from an argument: %*d, %.*d, %-*.*f; {x:{w}}, {:{}.{}}
_INDIRECT_WIDTH = re.compile(r"%[^a-zA-Z%]*\*|\{[^{}]*\{")


def _format_args(args: Iterable[Any]) -> list[Any]:
    """The arguments of a format, with the values of a mapping (format_map, %(name)s) and of a tuple."""
    found: list[Any] = []
    for arg in args:
        if isinstance(arg, dict):
            found.extend(arg.values())
        elif isinstance(arg, list | tuple):
            found.extend(arg)
        else:
            found.append(arg)
    return found


def _check_format(template: str, args: Iterable[Any]) -> None:
    """A format string may not pad to more than MAX_STRING characters, directly or through an argument, nor
    repeat its arguments past MAX_STRING characters."""
    for number in _BIG_NUMBER.findall(template):
        if len(number) > 7 or int(number) > MAX_STRING:
            _too_long(int(number) if len(number) < 30 else 10**30)
    values = _format_args(args)
    fields_only = template.replace("{{", "").replace("}}", "").replace("%%", "")  # escapes are no fields
    if _INDIRECT_WIDTH.search(fields_only):
        for arg in values:
            if isinstance(arg, int) and abs(arg) > MAX_STRING:
                _too_long(abs(arg))
    fields = fields_only.count("{") + fields_only.count("%")
    if fields and values:
        largest = max(weight(arg, MAX_STRING) for arg in values)
        _too_long(len(template) + fields * largest)


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        if isinstance(left, int) and isinstance(right, int):
            _int_too_big(left.bit_length() + right.bit_length())
            return
        if isinstance(right, str | list | tuple) and isinstance(left, int):
            left, right = right, left
        if isinstance(left, str | list | tuple) and isinstance(right, int):
            _too_long(len(left) * max(right, 0))
        if isinstance(left, list | tuple) and isinstance(right, int):
            _too_heavy(weight(left) * max(right, 0))
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            _int_too_big(max(left.bit_length(), 1) * right if abs(left) > 1 else 1)
    elif operator == "+":
        _too_long(_size(left) + _size(right))
        if isinstance(left, list | tuple) and isinstance(right, list | tuple):
            _too_heavy(weight(left) + weight(right))
    elif operator == "%" and isinstance(left, str):
        _check_format(left, right if isinstance(right, tuple) else (right,))


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Pre-check a str method that can grow its string beyond the bound."""
    target = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
    owner = getattr(target, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(target, "__name__", "")
    values = [*args, *kwargs.values()]
    if name in ("center", "ljust", "rjust", "zfill") and values and isinstance(values[0], int):
        _too_long(values[0])
    elif name == "expandtabs":
        size = values[0] if values and isinstance(values[0], int) else 8
        _too_long(len(owner) + owner.count("\t") * max(size, 0))
    elif name == "replace" and len(values) >= 2 and isinstance(values[0], str) and isinstance(values[1], str):
        count = owner.count(values[0]) if values[0] else len(owner) + 1
        _too_long(len(owner) + count * max(len(values[1]) - len(values[0]), 0))
    elif name == "join" and values:
        items = values[0]
        _heavy(items)
        items = list(items)
        _too_long(sum(weight(item) for item in items) + len(owner) * max(len(items) - 1, 0))
    elif name in ("format", "format_map"):
        _check_format(owner, values)
    elif name == "translate" and values and isinstance(values[0], dict):
        grown = 0
        for key, new in values[0].items():
            if isinstance(new, str) and len(new) > 1 and isinstance(key, int) and 0 <= key < 0x110000:
                grown += owner.count(chr(key)) * (len(new) - 1)
                _too_long(len(owner) + grown)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter with its amplifying arguments pre-checked and its result's length bounded."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        value = args[0] if args else None
        rest = [*args[1:], *kwargs.values()]
        if name == "center" and rest and isinstance(rest[0], int):
            _too_long(rest[0])
        elif name == "indent":
            width = rest[0] if rest and isinstance(rest[0], int) else 0
            lines = str(value).count("\n") + 1
            _too_long(len(str(value)) + lines * max(width, 0))
        elif name == "join":
            _heavy(value)
            items = list(value) if value is not None else []
            separator = rest[0] if rest and isinstance(rest[0], str) else ""
            _too_long(sum(weight(item) for item in items) + len(separator) * len(items))
        elif name == "replace" and len(rest) >= 2:
            text, old, new = str(value), str(rest[0]), str(rest[1])
            count = text.count(old) if old else len(text) + 1
            _too_long(len(text) + count * max(len(new) - len(old), 0))
        elif name == "format":
            _check_format(str(value), rest)
        elif name == "slice" and rest and isinstance(rest[0], int):
            if rest[0] > MAX_RANGE:
                _too_long(rest[0], MAX_RANGE)
        elif name == "tojson" and kwargs.get("indent") is not None:
            indent = kwargs["indent"]
            if isinstance(indent, int) and indent > 16:
                _too_long(indent, 16)
        elif name == "wordwrap":
            text = value if isinstance(value, str) else ""
            _too_long(len(text), MAX_WRAP)
            if len(rest) >= 3 and isinstance(rest[2], str):
                _too_long(len(text) * (len(rest[2]) + 1))
        elif name == "batch" and rest and isinstance(rest[0], int):
            _too_long(rest[0])
        elif name in _PRINTERS:
            _heavy(value, MAX_OUTPUT)
        if name in _WALKERS:
            _heavy(value)

    passes_first = hasattr(function, "jinja_pass_arg")  # context, eval context or environment first

    first = 1 if passes_first else 0
    checked = bool(name)

    def bounded(*args: Any, **kwargs: Any) -> Any:
        _current().check_time()
        if checked and len(args) > first and _lazy(args[first]):
            # a lazy input (map, select...) is listed once: the check may walk it and the filter still gets it
            args = (*args[:first], list(args[first]), *args[first + 1 :])
        check(args[1:] if passes_first else args, kwargs)
        result = function(*args, **kwargs)
        if _lazy(result):
            return _metered(result)
        _too_long(_size(result))
        return result

    bounded.__name__ = getattr(function, "__name__", name)
    # keep pass_context / pass_eval_context / pass_environment
    if hasattr(function, "jinja_pass_arg"):
        bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


def _lazy(value: Any) -> bool:
    """Whether a filter's input or result is a lazy iterator (a generator, map, reversed...); a cheap test: it runs
    at every filter call of every message."""
    return type(value) not in _EAGER and hasattr(value, "__next__")


def _metered(items: Iterator[Any]) -> Iterator[Any]:
    """What a lazy filter (map, select, batch...) yields: each item weighed and the clock checked."""
    budget = _current()
    total = 0
    for item in items:
        budget.tick()
        total += 1 + weight(item)
        _too_heavy(total)
        yield item


def _bounded_sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    """Python's sum, but lists and tuples are joined in one growing copy (linear, not quadratic), with the size
    and the clock checked at every item."""
    _heavy(iterable)
    _heavy(start)
    budget = _current()
    if not isinstance(start, list | tuple):
        total = start
        for item in iterable:
            budget.tick()
            total = total + item
            _too_long(_size(total))
        return total
    joined = list(start)
    for item in iterable:
        budget.tick()
        if not isinstance(item, type(start)):
            raise TypeError(f'can only concatenate {type(start).__name__} (not "{type(item).__name__}")')
        _too_long(len(joined) + len(item))
        joined.extend(item)
    return joined if isinstance(start, list) else tuple(joined)


@pass_environment
def _bounded_jinja_sum(
    environment: Environment, iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0
) -> Any:
    """Jinja's ``sum`` filter over :func:`_bounded_sum`."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    return _bounded_sum(iterable, start)


def _printable(value: Any) -> Any:
    """Every ``{{ value }}`` before it is turned into text: a list or dict that would print past MAX_OUTPUT
    characters is refused before its text is built."""
    if isinstance(value, _CONTAINERS):
        _heavy(value, MAX_OUTPUT)
    return value


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimitError(
            f"range() trong mẫu tạo {len(numbers):,} số, quá giới hạn {MAX_RANGE:,}: hãy dùng khoảng nhỏ hơn."
        )
    return numbers


def _counted(items: Any) -> Iterator[Any]:
    """The items of a ``{% for %}``, each step counted against the render's loop budget."""
    budget = _current()
    for item in items:
        budget.tick()
        yield item


@pass_eval_context
def _joined(eval_ctx: EvalContext, values: list[Any]) -> str:
    """``a ~ b``: the same join Jinja does, with the result's length checked first."""
    _too_long(sum(_size(value) or len(str(value)) for value in values))
    return markup_join(values) if eval_ctx.autoescape else str_join(values)


class _Bounder(NodeTransformer):
    """Counts every loop's steps and checks every ``~`` (the AST is rewritten before compiling)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_counted_loop", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(items, "_bounded_concat", [], [], None, None, lineno=node.lineno)


TOO_DEEP = "Mẫu gọi macro lồng nhau quá sâu (một macro gọi lại chính nó không dừng): hãy bỏ lời gọi đệ quy trong mẫu."


class BoundedTemplate(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        with render_limits():
            try:
                return super().render(*args, **kwargs)
            except RecursionError as error:  # keeps the traceback: validation names the file and line
                raise TemplateLimitError(TOO_DEEP).with_traceback(error.__traceback__) from None


_AMPLIFIERS = ("center", "indent", "join", "replace", "format", "slice", "tojson", "wordwrap", "batch")
# filters that turn a whole value into text: their input may weigh at most MAX_OUTPUT
_PRINTERS = frozenset({"string", "tojson", "pprint", "urlencode", "xmlattr", "e", "escape", "forceescape"})
# filters that copy or walk a whole value: their input may weigh at most MAX_WEIGHT
_WALKERS = frozenset(
    {"map", "list", "sort", "unique", "dictsort", "groupby", "reverse", "select", "reject", "selectattr"}
    | {"rejectattr", "items", "min", "max", "wordcount"}
)
_CHECKED = frozenset(_AMPLIFIERS) | _PRINTERS | _WALKERS


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with the bounds of this module."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    template_class = BoundedTemplate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _bounded_range
        self.globals.pop("lipsum", None)
        for name, function in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name if name in _CHECKED else "", function)
        self.filters["sum"] = _bounded_filter("", _bounded_jinja_sum)
        self.filters["_counted_loop"] = _counted
        self.filters["_bounded_concat"] = _joined
        self.concat = self._bounded_concat  # type: ignore[method-assign]
        self.finalize = _printable

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        bounded = _Bounder().visit(tree)
        assert isinstance(bounded, nodes.Template)
        return bounded

    def _bounded_concat(self, pieces: Iterable[str]) -> str:
        """Every output buffer of a template (the render, a macro, a block): at most MAX_OUTPUT characters."""
        budget = _current()
        total = 0
        kept = []
        for piece in pieces:
            total += len(piece)
            if total > MAX_OUTPUT:
                raise TemplateLimitError(
                    f"Mẫu dựng ra nội dung dài quá {MAX_OUTPUT:,} ký tự: hãy rút gọn mẫu."
                )
            kept.append(piece)
            if len(kept) % _CHECK_EVERY == 0:
                budget.check_time()
        return "".join(kept)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        _too_long(_size(result))
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _current().check_time()
        _check_method(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        _too_long(_size(result))
        return result
