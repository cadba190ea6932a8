"""Rendering messages from the Jinja2 templates, always in a sandbox, and checking an admin's overrides.

Built-in templates live next to this module (``<channel>/<kind>.<part>.j2`` plus
shared ``_*.j2`` partials); an admin's folder with the same relative paths takes
precedence file by file. Every template, built-in or not, runs in Jinja's
immutable sandbox with ``StrictUndefined`` (a misspelt variable is an error,
never a silent blank); ``.html`` templates are autoescaped, text ones are not.

An override folder is validated when the :class:`Renderer` is built: each file
is rendered against the sample contexts of its kind and channel, and any
problem (syntax, unknown variable, unsafe access, a message too long for its
channel, a tag Telegram refuses) raises :class:`TemplateError`, so a broken
override never reaches a send.

Channels (rules.channels lists them, with their limits and template files): ``email``
(subject, text, HTML), ``telegram`` (its HTML subset, at most 4,096 characters, and a
plain-text copy), ``zalo`` (OA text, at most 2,000 characters) and ``zns`` (an approved
Zalo template: id and parameters read from config/zns.yaml). A message too long for its
channel is first re-rendered with shorter lists ("… và 3 nhiệm vụ khác"); if it still
does not fit, Telegram's is split into parts (``extra["telegram_parts"]``, the first one
in ``html``) and Zalo's is cut at a line end.

A bundle (kind ``bundle``, see templates.context.bundle_context) renders each item with
``<channel>/bundle_item.<suffix>`` (the item's own context), then the bundle's template
around those ``sections``. Where the channel has a limit, the items are packed into parts
that each fit (``part``: number and total), never cutting an item unless one alone is
longer than the limit: Telegram's parts in ``extra["telegram_parts"]``, Zalo's in
``extra["zalo_parts"]``, and ``text`` holds them all. A bundle has no ZNS form (an approved
ZNS template carries one notification).
"""

from __future__ import annotations

import re
import traceback
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    pass_context,
)
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from markupsafe import Markup

from plan.errors import UserError
from rules.channels import CHANNELS as CHANNEL_SPECS
from rules.model import NotificationKind
from templates.context import (
    sample_context,
    sample_variants,
    shorten,
    vn_date,
    vn_datetime,
    vn_day,
    vn_month,
    vn_weekday,
)
from templates.limits import BoundedSandbox, TemplateLimitError, render_limits

BUILTIN_DIR = Path(__file__).resolve().parent
BUNDLE = "bundle"  # the kind of a message that bundles several notifications
BUNDLE_ITEM = "bundle_item"  # the template of one item of a bundle
KINDS: tuple[str, ...] = (*(str(kind) for kind in NotificationKind), BUNDLE)
ZNS = "zns"  # a rendering of a Zalo message as an approved ZNS template, not a channel of its own
CHANNELS: tuple[str, ...] = (*CHANNEL_SPECS, ZNS)
TELEGRAM_LIMIT = CHANNEL_SPECS["telegram"].limit or 4096
ZALO_LIMIT = CHANNEL_SPECS["zalo"].limit or 2000
TELEGRAM_TAGS = frozenset({"b", "strong", "i", "em", "u", "s", "a", "code", "pre", "blockquote"})
SUBJECT_LIMIT = 200
# A channel with no length limit (email) still lists at most this many tasks in each list of a message (a digest
# of a 10,000-task plan listed them all: megabytes of HTML, past the templates' output bound).
LIST_LIMIT_UNBOUNDED = 100
_LIST_LIMITS: tuple[int | None, ...] = (LIST_LIMIT_UNBOUNDED, 20, 10, 5, 3, 1)
# Parts of a message and their file suffix, per template channel (zns has no template file).
PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    code: spec.template_parts for code, spec in CHANNEL_SPECS.items()
}
# Characters kept free while packing a bundle's items: a part's heading grows with the total ("phần 2/12").
_PART_MARGIN = 16
VALIDATE_SECONDS = 20.0  # a whole folder's check (every render of every sample), see templates.limits
_IGNORED = re.compile(r"(^|/)(\.|__pycache__)|\.pyc?$")


class TemplateProblem(NamedTuple):
    """A problem in a template file (or the ZNS file), said in Vietnamese."""

    path: Path
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}, dòng {self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class TemplateError(UserError):
    """Templates that cannot be used: an invalid override folder, a bad ZNS file, a kind with no ZNS template."""

    def __init__(self, problems: Sequence[TemplateProblem] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if isinstance(problems, str):
            super().__init__(problems)
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            super().__init__(f"Mẫu thông báo không dùng được ({len(self.problems)} lỗi):\n{lines}")


class TemplateInfo(NamedTuple):
    kind: str
    channel: str
    source: str  # "builtin" | "override" | "config" (ZNS)
    path: Path


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


# -- the environment ------------------------------------------------------------------------------------


def _bounded_lists(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """``context`` with its lists bounded (:data:`LIST_LIMIT_UNBOUNDED`) unless a shorter limit is set."""
    if context.get("list_limit") is not None:
        return context
    return {**context, "list_limit": LIST_LIMIT_UNBOUNDED}


@pass_context
def _cap(context: Context, items: Sequence[Any]) -> list[Any]:
    """The first ``list_limit`` items (all when the renderer sets no limit)."""
    limit = context.get("list_limit")
    return list(items) if limit is None else list(items)[:limit]


@pass_context
def _more(context: Context, items: Sequence[Any], noun: str = "nhiệm vụ") -> str:
    """ "… và 3 nhiệm vụ khác" when :func:`_cap` left items out, else ""."""
    limit = context.get("list_limit")
    hidden = 0 if limit is None else len(items) - limit
    return f"… và {hidden} {noun} khác" if hidden > 0 else ""


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".html"))


def make_environment(overrides_dir: Path | None = None) -> BoundedSandbox:
    """The sandbox every template renders in: overrides first, then the built-in templates."""
    loaders = [FileSystemLoader(str(overrides_dir))] if overrides_dir is not None else []
    loaders.append(FileSystemLoader(str(BUILTIN_DIR)))
    env = BoundedSandbox(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        vn_date=vn_date,
        vn_day=vn_day,
        vn_weekday=vn_weekday,
        vn_month=vn_month,
        vn_datetime=vn_datetime,
        shorten=shorten,
        cap=_cap,
        more=_more,
    )
    return env


def template_name(kind: str, channel: str, suffix: str) -> str:
    return f"{channel}/{kind}.{suffix}"


def _tidy(text: str) -> str:
    """Trailing spaces off every line, at most one blank line in a row, no blank start or end."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def length(text: str) -> int:
    """Length as Telegram and Zalo count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


# -- HTML helpers (Telegram) ----------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Telegram HTML as plain text: tags dropped, entities decoded, links written out after their text."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return _tidy("".join(extractor.parts))


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(
                f"Telegram không nhận thẻ <{tag}> (chỉ dùng: {', '.join(sorted(TELEGRAM_TAGS))}; "
                "xuống dòng bằng cách xuống dòng thật, không dùng <br> hay <p>)"
            )
        extra = [name for name, _ in attrs if not (tag == "a" and name == "href")]
        if extra:
            self.problems.append(f"Telegram không nhận thuộc tính {', '.join(extra)} của thẻ <{tag}>")


def telegram_tag_problems(markup: str) -> list[str]:
    checker = _TagChecker()
    checker.feed(markup)
    checker.close()
    return list(dict.fromkeys(checker.problems))


_TOKEN = re.compile(r"<[^>]*>|[^<]+")
_START = re.compile(r"<([a-zA-Z][\w-]*)")
_END = re.compile(r"</\s*([a-zA-Z][\w-]*)")


def _pieces(markup: str, limit: int) -> list[str]:
    """Tags, and text cut after each line end (long lines after each space)."""
    pieces: list[str] = []
    for token in _TOKEN.findall(markup):
        if token.startswith("<"):
            pieces.append(token)
            continue
        for line in token.splitlines(keepends=True):
            if length(line) <= limit // 4:
                pieces.append(line)
                continue
            for word in re.findall(r"\S*\s*", line):
                while length(word) > limit // 2:  # one very long word: cut where no entity is open
                    cut = limit // 2
                    amp = word.rfind("&", 0, cut)
                    if amp > cut - 10 and ";" not in word[amp:cut]:
                        cut = amp
                    pieces.append(word[:cut])
                    word = word[cut:]
                if word:
                    pieces.append(word)
    return pieces


def split_html(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """``markup`` in parts of at most ``limit`` characters, cut at line ends, each with balanced tags."""
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # open tags: (name, start tag as written)
    current = ""

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    for piece in _pieces(markup, limit):
        if current.strip() and length(current + piece + closing()) + 16 > limit:
            parts.append(_tidy(current + closing()))
            current = "".join(tag for _, tag in stack)
        current += piece
        if (end := _END.match(piece)) is not None:
            for index in range(len(stack) - 1, -1, -1):
                if stack[index][0] == end.group(1).lower():
                    del stack[index]
                    break
        elif (start := _START.match(piece)) is not None and not piece.endswith("/>"):
            stack.append((start.group(1).lower(), piece))
    if current.strip():
        parts.append(_tidy(current + closing()))
    return parts


def truncate_text(text: str, limit: int) -> str:
    """``text`` cut at the last line end (or space) that keeps it within ``limit`` with a final "…"."""
    if length(text) <= limit:
        return text
    cut = text[: limit - 2]
    while length(cut) > limit - 2:
        cut = cut[:-1]
    for separator in ("\n", " "):
        position = cut.rfind(separator)
        if position > limit // 2:
            cut = cut[:position]
            break
    return cut.rstrip() + "\n…"


# -- ZNS ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZnsType:
    """A parameter type ("cài đặt kỹ thuật") registered with a ZNS template: its name, length limit, format.

    ``pattern``: what a value of an exact type (a date, an amount) must look like; such a value is never
    shortened (a cut date or amount would be a wrong one), and neither is a date or a number of our data
    whatever the type, so a template whose data could not fit is refused when the file is loaded. Other
    values are text, shortened at a word boundary.
    """

    label: str
    max_length: int
    pattern: str | None = None


_DATE = r"\d{2}/\d{2}/\d{4}"
_TIME = r"\d{2}:\d{2}(:\d{2})?"
# Parameter types and their limits. Source: zalo.cloud, "Các định dạng dữ liệu khi truyền vào tham số trên
# nội dung ZNS" (https://zalo.cloud/zns/guidelines/en/cac-dinh-dang-du-lieu-khi-truyen-vao-tham-so-tren-noi-dung-zns:
# a value longer than its type's limit is refused; "Tên khách hàng (30)" is its example), with the other types'
# limits as open-source ZNS clients list them (unconfirmed against Zalo's portal, which could not be read).
# The formats (dd/mm/yyyy for a date, digits for an amount) are the same page's examples.
ZNS_PARAM_TYPES: Mapping[str, ZnsType] = {
    "customer_name": ZnsType("Tên khách hàng", 30),
    "phone_number": ZnsType("Số điện thoại", 15, r"\+?\d{8,15}"),
    "address": ZnsType("Địa chỉ", 200),
    "code": ZnsType("Mã số", 30),
    "custom_label": ZnsType("Nhãn tùy chỉnh", 30),
    "transaction_status": ZnsType("Trạng thái giao dịch", 30),
    "contact": ZnsType("Thông tin liên hệ", 50),
    "gender": ZnsType("Giới tính / Danh xưng", 5),
    "product_name": ZnsType("Tên sản phẩm / Thương hiệu", 200),
    "amount": ZnsType("Số lượng / Số tiền", 20, r"-?\d[\d.,]*"),
    "time": ZnsType("Thời gian", 20, rf"({_TIME} )?{_DATE}|{_DATE}( {_TIME})?|{_TIME}"),
    "otp": ZnsType("OTP", 10, r"\w+"),
    "url": ZnsType("URL", 200, r"https?://\S+"),
    "currency": ZnsType("Tiền tệ (VNĐ)", 12, r"\d[\d.,]*"),
    "bank_note": ZnsType("Nội dung chuyển khoản", 90),
}


@dataclass(frozen=True)
class ZnsParam:
    path: str
    type: str  # a key of ZNS_PARAM_TYPES

    @property
    def max_length(self) -> int:
        return ZNS_PARAM_TYPES[self.type].max_length


@dataclass(frozen=True)
class ZnsTemplate:
    template_id: str
    params: Mapping[str, ZnsParam]


def fit_param(value: str, limit: int) -> str:
    """``value`` within ``limit`` characters (as Zalo counts them): cut at a word boundary, ending with "…".

    Only a single word longer than the limit is cut inside the word, and never between a letter and its
    accent: the text is NFC-normalised first (a Word document may store "ế" as three code points) and the cut
    steps back over combining marks.
    """
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    if length(text) <= limit:
        return text
    end = 0
    while end < len(text) and length(text[: end + 1]) <= limit - 1:
        end += 1
    while 0 < end < len(text) and unicodedata.combining(text[end]):
        end -= 1
    cut = text[:end]
    if end < len(text) and text[end] != " " and " " in cut:
        cut = cut[: cut.rfind(" ")]
    cut = cut.rstrip(" ,;:.-–")
    return cut + "…" if cut else text[:end] + "…"


class _Missing(Exception):
    """A dotted path that does not exist in a context."""


def resolve_path(context: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` ("task.code", "units.0") in a context of dicts and lists."""
    value: Any = context
    for step in path.split("."):
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise _Missing(step)
    return value


def zns_value(value: Any) -> str:
    """A context value as a ZNS parameter: dates dd/mm/yyyy, lists joined by "; ", nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, datetime):
        return f"{value:%H:%M %d/%m/%Y}"
    if isinstance(value, date):
        return vn_date(value)
    if isinstance(value, list | tuple):
        return "; ".join(zns_value(item) for item in value)
    return str(value)


def _zns_params(
    file: Path, kind: str, raw: Any, problems: list[TemplateProblem]
) -> dict[str, ZnsParam] | None:
    if not isinstance(raw, Mapping) or not raw:
        problems.append(TemplateProblem(file, f"loại '{kind}': 'params' phải là bảng tên_tham_số: đường.dẫn"))
        return None
    params: dict[str, ZnsParam] = {}
    types = ", ".join(ZNS_PARAM_TYPES)
    for name, spec in raw.items():
        where = f"loại '{kind}', tham số '{name}'"
        spec = spec if isinstance(spec, Mapping) else {"path": spec}
        path, type_ = spec.get("path"), spec.get("type")
        if not isinstance(path, str) or not path.strip():
            problems.append(TemplateProblem(file, f"{where}: thiếu đường dẫn dữ liệu (path)"))
            continue
        if type_ not in ZNS_PARAM_TYPES:
            problems.append(
                TemplateProblem(
                    file,
                    f"{where}: cần 'type', loại tham số đã đăng ký với mẫu trên Zalo (một trong: {types})",
                )
            )
            continue
        params[str(name)] = ZnsParam(path.strip(), str(type_))
    return params


def _zns_param_problems(file: Path, kind: str, params: Mapping[str, ZnsParam]) -> list[TemplateProblem]:
    """Parameters whose path is not a single value of the context of ``kind``, or whose data cannot fit its type."""
    context = sample_context(kind, "zns")
    problems = []
    for name, param in params.items():
        try:
            value = resolve_path(context, param.path)
        except _Missing as missing:
            message = (
                f"dữ liệu '{param.path}' không có (phần '{missing}' không tồn tại với loại thông báo này; "
                "xem templates/context.py)"
            )
        else:
            if isinstance(value, Mapping):
                message = f"'{param.path}' là một nhóm dữ liệu, hãy chỉ tới một giá trị (ví dụ task.code)"
            elif (unfit := _unfit(param, value)) is not None:
                message = unfit
            else:
                continue
        problems.append(TemplateProblem(file, f"loại '{kind}', tham số '{name}': {message}"))
    return problems


def _unfit(param: ZnsParam, value: Any) -> str | None:
    """Why values of ``param`` (like the sample ``value``) cannot go in its registered type, or None."""
    type_ = ZNS_PARAM_TYPES[param.type]
    text = zns_value(value)
    widest = {datetime: 16, date: 10}  # every date reads dd/mm/yyyy, a moment "hh:mm dd/mm/yyyy"
    width = next((w for cls, w in widest.items() if isinstance(value, cls)), length(text))
    named = f"'{param.path}' (ví dụ \"{text}\")"
    if type_.pattern is not None and not re.fullmatch(type_.pattern, text):
        return (
            f"{named} không đúng dạng của loại '{param.type}' ({type_.label}): chọn loại khác cho tham số này"
        )
    exact = type_.pattern is not None or (
        isinstance(value, date | int | float) and not isinstance(value, bool)
    )
    if exact and width > type_.max_length:
        return (
            f"{named} dài {width} ký tự, loại '{param.type}' ({type_.label}) chỉ nhận {type_.max_length}: "
            "giá trị này không rút gọn được, chọn loại dài hơn"
        )
    return None


def load_zns(file: Path | None) -> tuple[dict[str, ZnsTemplate], list[TemplateProblem]]:
    """ZNS templates per kind from ``file`` ({kind: {template_id, params: {name: {path, type}}}}).

    A missing file means no ZNS template yet (not an error). Every parameter path
    is checked against the sample context of its kind, and its sample value against
    the parameter's registered type: a date or a number that could not fit is refused
    here, at start, rather than by Zalo at the first send.
    """
    if file is None or not file.is_file():
        return {}, []
    problems: list[TemplateProblem] = []
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        mark = getattr(error, "problem_mark", None)
        return {}, [TemplateProblem(file, "không đọc được tệp YAML", mark.line + 1 if mark else None)]
    if not isinstance(data, Mapping):
        return {}, [TemplateProblem(file, "tệp phải là bảng loại_thông_báo: {template_id, params}")]
    templates: dict[str, ZnsTemplate] = {}
    for kind, entry in data.items():
        if kind not in KINDS:
            problems.append(
                TemplateProblem(file, f"loại thông báo '{kind}' không có (chỉ nhận: {', '.join(KINDS)})")
            )
            continue
        if not isinstance(entry, Mapping) or entry.get("template_id") in (None, ""):
            problems.append(
                TemplateProblem(file, f"loại '{kind}': thiếu template_id (mã mẫu ZNS đã được duyệt)")
            )
            continue
        params = _zns_params(file, kind, entry.get("params"), problems)
        if params is None:
            continue
        problems.extend(_zns_param_problems(file, str(kind), params))
        templates[str(kind)] = ZnsTemplate(str(entry["template_id"]), params)
    return templates, problems


# -- validation -----------------------------------------------------------------------------------------


def _where(error: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where a rendering error happened (Jinja rewrites the traceback)."""
    if isinstance(error, TemplateSyntaxError):
        return error.filename, error.lineno
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    if not frames:
        return None, getattr(error, "lineno", None)
    return frames[-1].filename, frames[-1].lineno


_UNDEFINED = re.compile(r"^'([^']*)' is undefined$")
_NO_ATTRIBUTE = re.compile(r"^'([^']*)' has no attribute '([^']*)'$")


def _explain(error: BaseException) -> str:
    """A rendering error in Vietnamese, with Jinja's own words in brackets when they help."""
    message = getattr(error, "message", None) or str(error)
    if isinstance(error, TemplateLimitError):
        return message
    if isinstance(error, SecurityError):
        return f"truy cập không an toàn bị chặn (sandbox): {message}"
    if isinstance(error, UndefinedError):
        if match := _UNDEFINED.match(message):
            return f"biến '{match.group(1)}' không có trong dữ liệu của mẫu (xem templates/context.py)"
        if match := _NO_ATTRIBUTE.match(message):
            if match.group(1) == "None":
                return (
                    f"dữ liệu rỗng (None) với loại thông báo này nên không có thuộc tính '{match.group(2)}'"
                )
            return f"không có thuộc tính '{match.group(2)}' trong dữ liệu của mẫu (xem templates/context.py)"
        return f"dùng dữ liệu không có ({message})"
    if isinstance(error, TemplateSyntaxError):
        return f"lỗi cú pháp Jinja ({error.message})"
    if isinstance(error, TemplateNotFound):
        return f"không tìm thấy mẫu được gọi tới: {error.name}"
    return f"lỗi khi dựng nội dung ({type(error).__name__}: {message})"


@dataclass
class _Validator:
    directory: Path
    env: BoundedSandbox
    problems: list[TemplateProblem] = field(default_factory=list)

    def add(self, file: Path, message: str, line: int | None = None) -> None:
        problem = TemplateProblem(file, message, line)
        if problem not in self.problems:
            self.problems.append(problem)

    def check_file(self, file: Path) -> None:
        rel = file.relative_to(self.directory).as_posix()
        new_partial = rel.endswith(".j2") and rel.rpartition("/")[2].startswith("_")
        if not new_partial and not (rel.endswith(".j2") and (BUILTIN_DIR / rel).is_file()):
            self.add(
                file,
                "không có mẫu gốc nào cùng tên nên tệp này không được dùng (xem 'nhacviec templates list')",
            )
            return
        try:
            file.read_text(encoding="utf-8")
            self.env.get_template(rel)
        except UnicodeDecodeError:
            self.add(file, "tệp phải được lưu dạng UTF-8")
            return
        except TemplateSyntaxError as error:
            self.add(file, f"lỗi cú pháp Jinja ({error.message})", error.lineno)
            return
        for kind, channel, suffix in _targets(rel):
            target = template_name(kind, channel, suffix)
            if target == rel or not (self.directory / target).is_file():  # an override is checked on its own
                self.check_render(file, kind, channel, suffix)

    def checked_on_its_own(self, where: str, file: Path) -> bool:
        """Whether an error found while checking ``file`` lies in another override that gets its own check.

        An admin's own new partial ("email/_chan_trang.html.j2") is only checked through the
        templates that include it, so its errors are reported under them.
        """
        path = Path(where).resolve()
        root = self.directory.resolve()
        if path == file.resolve() or not path.is_relative_to(root):
            return False
        return (BUILTIN_DIR / path.relative_to(root)).is_file()

    def check_render(self, file: Path, kind: str, channel: str, suffix: str) -> None:
        for context in sample_variants(kind, channel):
            try:
                output = _render_checked(self.env, kind, channel, suffix, context)
            except MemoryError:  # not the template's text: the check itself ran out (web.isolation says so)
                raise
            except Exception as error:  # any failure of an admin's template is reported, never raised
                where, line = _where(error)
                if where is not None and self.checked_on_its_own(where, file):
                    return  # reported for that file
                detail = _explain(error)
                if where is not None and Path(where).resolve() != file.resolve():
                    detail += f" (trong {where})"
                    line = None
                self.add(file, detail, line)
                return
            text, too_long = output
            if too_long:
                self.add(
                    file,
                    f"nội dung {channel} dài {length(text)} ký tự, vượt giới hạn {_limit(channel)} "
                    "ngay cả khi đã rút gọn danh sách",
                )
            if channel == "telegram":
                for message in telegram_tag_problems(text):
                    self.add(file, message)
            if suffix == "subject.j2" and not _one_line(text):
                self.add(file, "tiêu đề thư trống")
            elif suffix == "subject.j2" and len(_one_line(text)) > SUBJECT_LIMIT:
                self.add(file, f"tiêu đề thư dài hơn {SUBJECT_LIMIT} ký tự")


def _targets(rel: str) -> list[tuple[str, str, str]]:
    """The (kind, channel, suffix) messages a template file takes part in: itself, or all that may use a partial."""
    channel, _, name = rel.rpartition("/")
    if not name.startswith("_"):
        kind, _, suffix = name.partition(".")
        kind = BUNDLE if kind == BUNDLE_ITEM else kind  # an item's template is checked through its bundle
        return [(kind, channel, suffix)] if kind in KINDS and channel in PARTS else []
    channels = [channel] if channel in PARTS else list(PARTS)
    return [(kind, ch, suffix) for ch in channels for kind in KINDS for _, suffix in PARTS[ch]]


def _limit(channel: str) -> int | None:
    spec = CHANNEL_SPECS.get(channel)
    return spec.limit if spec is not None else None


def _render_fitted(
    env: BoundedSandbox, name: str, context: Mapping[str, Any], limit: int | None
) -> tuple[str, bool]:
    """Render ``name``; when over ``limit``, again with shorter lists. Returns the text and whether it is still too long."""
    template = env.get_template(name)
    text = ""
    for list_limit in _LIST_LIMITS if limit is not None else (LIST_LIMIT_UNBOUNDED,):
        text = _tidy(template.render({**context, "list_limit": list_limit}))
        if limit is None or length(text) <= limit:
            return text, False
    return text, True


def _render_checked(
    env: BoundedSandbox, kind: str, channel: str, suffix: str, context: Mapping[str, Any]
) -> tuple[str, bool]:
    """What validation looks at: the text of one template file's message, and whether it is too long."""
    name = template_name(kind, channel, suffix)
    if kind != BUNDLE or suffix == "subject.j2":
        return _render_fitted(env, name, context, _limit(channel))
    parts, too_long = _bundle_parts(env, channel, suffix, context, _limit(channel))
    return "\n\n".join(parts), too_long


# -- bundles ----------------------------------------------------------------------------------------------


EMBEDDED_KINDS = frozenset({NotificationKind.DIGEST})  # inside a bundle: their own body, as ``body``


def _bundle_sections(
    env: BoundedSandbox, channel: str, suffix: str, items: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Each item of a bundle rendered on its own, from its own context; a digest brings its own body
    (its kind's template, ``embedded``: no greeting nor signature) as ``body``."""
    template = env.get_template(template_name(BUNDLE_ITEM, channel, suffix))
    markup = _autoescape(f"{BUNDLE_ITEM}.{suffix}")
    sections = []
    for item in items:
        body = None
        if item["kind"] in EMBEDDED_KINDS:
            own = env.get_template(template_name(item["kind"], channel, suffix))
            body = _tidy(own.render({**_bounded_lists(item), "embedded": True}))
            body = Markup(body) if markup else body
        sections.append(_tidy(template.render({**item, "body": body})))
    return [Markup(section) for section in sections] if markup else sections


def _bundle_text(
    env: BoundedSandbox,
    channel: str,
    suffix: str,
    context: Mapping[str, Any],
    chosen: Sequence[int],
    sections: Sequence[str],
    part: Mapping[str, int] | None,
) -> str:
    template = env.get_template(template_name(BUNDLE, channel, suffix))
    items = context["items"]
    return _tidy(
        template.render(
            {
                **context,
                "items": [items[i] for i in chosen],
                "sections": [sections[i] for i in chosen],
                "part": part,
            }
        )
    )


def _bundle_parts(
    env: BoundedSandbox,
    channel: str,
    suffix: str,
    context: Mapping[str, Any],
    limit: int | None,
) -> tuple[list[str], bool]:
    """The bundle as one text, or as parts that each fit ``limit`` (items packed in order, none cut).

    Returns the parts and whether one is still too long (an item alone longer than the limit). Packing
    adds up each section's length and the frame's (measured with the footer, so it is an upper bound),
    rather than rendering each trial: a bundle of a thousand items costs a few renders per part.
    """

    def text(chosen: Sequence[int], part: Mapping[str, int] | None) -> str:
        return _bundle_text(env, channel, suffix, context, chosen, sections, part)

    sections: list[str] = []
    frame = text([], None)  # first: the frame's errors come before the items'
    sections = _bundle_sections(env, channel, suffix, context["items"])
    sizes = [length(section) + 2 for section in sections]  # and the blank line after each
    everything = list(range(len(sections)))
    if limit is None or length(frame) + sum(sizes) <= limit:
        whole = text(everything, None)
        if limit is None or length(whole) <= limit:
            return [whole], False
    room = limit - _PART_MARGIN
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index in everything:
        if current and used + sizes[index] <= room:
            current.append(index)
            used += sizes[index]
            continue
        if current:
            groups.append(current)
        number = len(groups) + 1
        current, used = [index], length(text([], {"number": number, "total": number})) + sizes[index]
    groups.append(current)
    parts = [
        text(group, {"number": number, "total": len(groups)}) for number, group in enumerate(groups, start=1)
    ]
    return parts, any(length(part) > limit for part in parts)


def split_text(text: str, limit: int) -> list[str]:
    """Plain ``text`` in pieces of at most ``limit`` characters, cut at line ends (else spaces)."""
    pieces: list[str] = []
    while length(text) > limit:
        head = truncate_text(text, limit).removesuffix("\n…").rstrip()
        if not head:
            break
        pieces.append(head)
        text = text[len(head) :].lstrip()
    if text.strip():
        pieces.append(text)
    return pieces


def validate(directory: Path, zns_file: Path | None = None) -> list[TemplateProblem]:
    """Every problem of the templates in ``directory`` (an override folder), and of ``zns_file`` if given."""
    directory = Path(directory)
    if not directory.is_dir():
        return [TemplateProblem(directory, "thư mục mẫu không tồn tại")]
    validator = _Validator(directory, make_environment(directory))
    with render_limits(VALIDATE_SECONDS):  # every render of the check shares one deadline
        for file in sorted(directory.rglob("*")):
            rel = file.relative_to(directory).as_posix()
            if file.is_file() and not _IGNORED.search(rel):
                validator.check_file(file)
    if zns_file is not None:
        validator.problems.extend(load_zns(zns_file)[1])
    return validator.problems


@dataclass(frozen=True)
class CheckedRenders:
    """What :func:`check_and_render` found: the folder's problems, else the renders asked for (or the sentence
    of a bound that real data crossed)."""

    problems: list[TemplateProblem]
    rendered: list[Rendered] = field(default_factory=list)
    refused: str | None = None


def check_and_render(
    directory: Path, renders: Sequence[tuple[str, str, Mapping[str, Any]]] = (), zns_file: Path | None = None
) -> CheckedRenders:
    """Validate an override folder, then render ``(kind, channel, context)`` with it: what a preview shows.
    Picklable both ways, for web.isolation's limited child."""
    problems = validate(directory, zns_file)
    if problems or not renders:
        return CheckedRenders(problems)
    renderer = Renderer(directory)
    try:
        return CheckedRenders(
            [], [renderer.render(kind, channel, context) for kind, channel, context in renders]
        )
    except TemplateLimitError as error:  # a bound: real data larger than the samples
        return CheckedRenders([], refused=str(error))


# -- the renderer -----------------------------------------------------------------------------------------


class Renderer:
    """Renders any kind of message for any channel; built once, used for many messages."""

    def __init__(self, overrides_dir: Path | None = None, zns_file: Path | None = None) -> None:
        problems = validate(overrides_dir) if overrides_dir is not None else []
        zns, zns_problems = load_zns(zns_file)
        if problems or zns_problems:
            raise TemplateError([*problems, *zns_problems])
        self.overrides_dir = Path(overrides_dir) if overrides_dir is not None else None
        self.zns_file = zns_file
        self.zns = zns
        self.env = make_environment(self.overrides_dir)

    def render(self, kind: str, channel: str, context: Mapping[str, Any]) -> Rendered:
        """The message of ``kind`` for ``channel`` from ``context`` (see templates.context)."""
        if kind not in KINDS:
            raise ValueError(f"Unknown notification kind {kind!r}")
        if channel not in CHANNELS:
            raise ValueError(f"Unknown channel {channel!r}")
        subject = _one_line(self._render(template_name(kind, "email", "subject.j2"), context))
        if kind == BUNDLE:
            return self._bundle(subject, channel, context)
        if channel == "email":
            text = self._render(template_name(kind, "email", "txt.j2"), context)
            return Rendered(subject, text, self._render(template_name(kind, "email", "html.j2"), context))
        if channel == "telegram":
            return self._telegram(kind, subject, context)
        text, too_long = _render_fitted(self.env, template_name(kind, "zalo", "txt.j2"), context, ZALO_LIMIT)
        text = truncate_text(text, ZALO_LIMIT) if too_long else text
        if channel == "zalo":
            return Rendered(subject, text)
        return Rendered(subject, text, extra={"zns": self.zns_payload(kind, context)})

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        return _tidy(self.env.get_template(name).render(_bounded_lists(context)))

    def _bundle(self, subject: str, channel: str, context: Mapping[str, Any]) -> Rendered:
        if channel == ZNS:
            raise TemplateError(
                "Tin tổng hợp không có dạng ZNS: một mẫu ZNS đã duyệt chỉ mang một thông báo."
            )
        spec = CHANNEL_SPECS[channel]
        suffixes = dict(spec.template_parts)
        if spec.limit is None:  # email: one message, text and HTML
            text = _bundle_parts(self.env, channel, suffixes["text"], context, None)[0][0]
            html = _bundle_parts(self.env, channel, suffixes["html"], context, None)[0][0]
            return Rendered(subject, text, html)
        parts, _ = _bundle_parts(self.env, channel, suffixes[spec.body], context, spec.limit)
        if spec.body == "html":
            parts = [
                piece
                for part in parts
                for piece in (split_html(part, spec.limit) if length(part) > spec.limit else [part])
            ]
            text = html_to_text("\n\n".join(parts))
            extra = {"telegram_parts": parts} if len(parts) > 1 else {}
            return Rendered(subject, text, parts[0], extra=extra)
        parts = [
            piece
            for part in parts
            for piece in (split_text(part, spec.limit) if length(part) > spec.limit else [part])
        ]
        return Rendered(subject, "\n\n".join(parts), extra={"zalo_parts": parts} if len(parts) > 1 else {})

    def _telegram(self, kind: str, subject: str, context: Mapping[str, Any]) -> Rendered:
        name = template_name(kind, "telegram", "html.j2")
        markup, too_long = _render_fitted(self.env, name, context, TELEGRAM_LIMIT)
        text = truncate_text(html_to_text(markup), TELEGRAM_LIMIT)
        if not too_long:
            return Rendered(subject, text, markup)
        parts = split_html(markup, TELEGRAM_LIMIT)
        return Rendered(subject, text, parts[0], extra={"telegram_parts": parts})

    def zns_payload(self, kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
        """{"template_id", "template_data": {param: str}} for an approved ZNS template of ``kind``."""
        template = self.zns.get(kind)
        if template is None:
            where = self.zns_file or "config/zns.yaml"
            raise TemplateError(f"Chưa có mẫu ZNS cho loại thông báo '{kind}' trong {where}.")
        data: dict[str, str] = {}
        for name, param in template.params.items():
            try:
                value = zns_value(resolve_path(context, param.path))
            except _Missing:
                value = ""
            data[name] = fit_param(value, param.max_length)
        return {"template_id": template.template_id, "template_data": data}

    def templates(self) -> list[TemplateInfo]:
        """Every template file in use, with where it comes from, and the configured ZNS templates."""
        infos = []
        for file in sorted(BUILTIN_DIR.rglob("*.j2")):
            rel = file.relative_to(BUILTIN_DIR).as_posix()
            channel, _, name = rel.rpartition("/")
            kind = name.split(".")[0]
            override = self.overrides_dir / rel if self.overrides_dir is not None else None
            if override is not None and override.is_file():
                infos.append(TemplateInfo(kind, channel or "*", "override", override))
            else:
                infos.append(TemplateInfo(kind, channel or "*", "builtin", file))
        for kind in sorted(self.zns):
            infos.append(TemplateInfo(kind, "zns", "config", Path(self.zns_file or "")))
        return infos
