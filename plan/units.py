"""The directory of units (config/units.yaml) and the resolution of unit names written in a plan.

A plan cell names units the way a clerk types them: "Phòng TCCB", "Thanh tra",
"Các phòng CN, CM, NV, các đơn vị, trường học trực thuộc". :meth:`Directory.resolve`
turns one such entry into unit codes by greedy longest-alias segmentation over
folded words (case, diacritics, spacing and punctuation ignored), so several units
in one cell are split without guessing at commas, which also occur inside names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from plan.errors import UserError
from plan.text import clean, fold

KINDS: tuple[str, ...] = ("office", "department", "inspectorate", "team", "leadership", "group")
CHANNELS: tuple[str, ...] = ("email", "telegram_chat_id", "zalo_user_id", "phone")

_TOKEN = re.compile(r"\w+|[^\w\s]")
# Punctuation that separates units or sits inside names ("GD&ĐT", "Kế hoạch - Tài chính"); ignored.
_SEPARATORS = frozenset(",;./&-–—()\"'“”:")
# Words that join two units ("A và B"); skipped when no alias starts with them.
_JOINERS = frozenset({"va"})
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
SUGGESTION_THRESHOLD = 0.6  # how alike (difflib ratio of folded names) a known unit must be to be suggested


@dataclass(frozen=True)
class Contacts:
    email: str | None = None
    telegram_chat_id: str | None = None
    zalo_user_id: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Person:
    code: str | None
    name: str
    title: str
    contacts: Contacts = Contacts()
    bundle: bool = True  # False: every message to this person goes on its own (``bundle: false``)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str  # one of KINDS
    aliases: tuple[str, ...]
    head: Person | None
    contacts: Contacts
    supervisor: str | None  # code of the leader who supervises the unit; None: the Director
    bundle: bool = True  # False: every message to the unit's mailbox or chat goes on its own


class UnknownUnitError(UserError):
    """A plan entry names something that is not in the unit directory."""

    def __init__(self, text: str, unmatched: str) -> None:
        self.text = clean(text)
        self.unmatched = clean(unmatched)
        message = f"Không biết đơn vị '{self.unmatched}'"
        if self.unmatched != self.text:
            message += f" (trong '{self.text}')"
        self.message = message
        super().__init__(message)


class UnitsFileError(UserError):
    """The unit directory file is missing, not YAML, or not the expected schema."""

    def __init__(self, file: str, field: str | None, message: str) -> None:
        self.file = file
        self.field = field
        self.message = message
        super().__init__(f"{file}: {field}: {message}" if field else f"{file}: {message}")


AliasKey = tuple[str, ...]
_Token = tuple[str, int, int]  # folded key, start, end in the NFC text


# The usual abbreviations, read as one way of writing: "P. TCCB" is "Phòng TCCB" (never two units split
# at the dot), "GD&ĐT", "GDĐT", "GD-ĐT" and "Giáo dục và Đào tạo" are the same words.
_ABBREVIATIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("giao", "duc", "va", "dao", "tao"), "gddt"),
    (("giao", "duc", "dao", "tao"), "gddt"),
    (("gd", "dt"), "gddt"),
)
_PHONG = "phong"


def _tokens(text: str) -> list[_Token]:
    """Folded words (and stray symbols) of ``text``, separators dropped, abbreviations spelt one way."""
    raw = [
        (fold(match.group()), match.start(), match.end())
        for match in _TOKEN.finditer(text)
        if match.group() not in _SEPARATORS
    ]
    tokens: list[_Token] = []
    index = 0
    while index < len(raw):
        key, start, end = raw[index]
        for words, short in _ABBREVIATIONS:
            if tuple(token[0] for token in raw[index : index + len(words)]) == words:
                tokens.append((short, start, raw[index + len(words) - 1][2]))
                index += len(words)
                break
        else:
            if key == "p" and index + 1 < len(raw):  # "P. TCCB", "P.KHTC"
                key = _PHONG
            tokens.append((key, start, end))
            index += 1
    return tokens


def alias_key(text: str) -> AliasKey:
    """The matching key of a unit name: its folded words ("Phòng TCCB" -> ("phong", "tccb"))."""
    return tuple(key for key, _, _ in _tokens(clean(text)))


def _unit_keys(unit: Unit) -> list[tuple[str, AliasKey]]:
    names = [unit.code, unit.name, *unit.aliases]
    return [(name, key) for name in names if (key := alias_key(name))]


@dataclass(frozen=True)
class Directory:
    """All units of the organisation, its Office and its leadership; built once, then read-only."""

    units: tuple[Unit, ...]
    office: str  # code of the Office that chases the plan
    director: Person
    deputies: tuple[Person, ...] = ()
    _by_code: dict[str, Unit] = field(init=False, repr=False, compare=False)
    _index: dict[str, tuple[tuple[AliasKey, str], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owners: dict[AliasKey, str] = {}
        for unit in self.units:
            for name, key in _unit_keys(unit):
                other = owners.setdefault(key, unit.code)
                if other != unit.code:
                    raise ValueError(f"Tên gọi '{name}' của đơn vị {unit.code} đã dùng cho đơn vị {other}")
        by_first: dict[str, list[tuple[AliasKey, str]]] = {}
        for key, code in owners.items():
            by_first.setdefault(key[0], []).append((key, code))
        index = {first: tuple(sorted(keys, key=lambda kc: -len(kc[0]))) for first, keys in by_first.items()}
        object.__setattr__(self, "_by_code", {unit.code: unit for unit in self.units})
        object.__setattr__(self, "_index", index)

    def get(self, code: str) -> Unit | None:
        return self._by_code.get(code) or self._by_code.get(code.strip().upper())

    def unit(self, code: str) -> Unit:
        found = self.get(code)
        if found is None:
            raise KeyError(f"Không có đơn vị mã '{code}'")
        return found

    @property
    def office_unit(self) -> Unit:
        return self.unit(self.office)

    def leaders(self) -> tuple[Person, ...]:
        return (self.director, *self.deputies)

    def deputy(self, code: str) -> Person:
        for person in self.deputies:
            if person.code == code:
                return person
        raise KeyError(f"Không có Phó Giám đốc mã '{code}'")

    def leader(self, code: str) -> Person:
        """The Director or a deputy, by code."""
        if self.director.code == code:
            return self.director
        return self.deputy(code)

    def supervisor_of(self, unit_code: str) -> Person:
        """The leader who supervises the unit; the Director when the unit names none."""
        supervisor = self.unit(unit_code).supervisor
        return self.director if supervisor is None else self.leader(supervisor)

    def resolve(self, text: str) -> list[str]:
        """Unit codes named by one cell entry, in order, without duplicates.

        Raises :class:`UnknownUnitError` naming the first part that matches no unit.
        """
        cleaned = clean(text)
        tokens = _tokens(cleaned)
        keys = [key for key, _, _ in tokens]
        codes: list[str] = []
        position = 0
        while position < len(keys):
            match = self._match_at(keys, position)
            if match is not None:
                code, length = match
                if code not in codes:
                    codes.append(code)
                position += length
            elif keys[position] in _JOINERS:
                position += 1
            else:
                raise UnknownUnitError(cleaned, self._unmatched(cleaned, tokens, position))
        return codes

    def resolve_partly(self, text: str) -> tuple[list[str], list[str]]:
        """Unit codes named by one cell entry, and the parts of it that name no unit, as written.

        "Phòng TCCB; Phòng Khảo thí" -> (["TCCB"], ["Phòng Khảo thí"]): what is known is kept, what is not
        is kept as written (never dropped) so it can be reported, suggested and added. A known name run
        into an unknown one with nothing between them is part of it: "Văn phòng UBND tỉnh" is not the
        unit "Văn phòng" plus "UBND tỉnh".
        """
        cleaned = clean(text)
        tokens = _tokens(cleaned)
        keys = [key for key, _, _ in tokens]
        segments: list[tuple[str | None, int, int]] = []  # (code or None for unknown, first, last token)
        position = 0
        while position < len(keys):
            match = self._match_at(keys, position)
            if match is not None:
                segments.append((match[0], position, position + match[1] - 1))
                position += match[1]
            elif keys[position] in _JOINERS:
                position += 1
            elif segments and segments[-1][0] is None and segments[-1][2] == position - 1:
                segments[-1] = (None, segments[-1][1], position)
                position += 1
            else:
                segments.append((None, position, position))
                position += 1
        merged: list[tuple[str | None, int, int]] = []
        for segment in segments:
            previous = merged[-1] if merged else None
            if (
                previous
                and (previous[0] is None or segment[0] is None)
                and self._touching(cleaned, tokens, previous, segment)
            ):
                merged[-1] = (None, previous[1], segment[2])
            else:
                merged.append(segment)
        codes = [code for code, _, _ in merged if code is not None]
        unknown = [
            cleaned[tokens[first][1] : tokens[last][2]] for code, first, last in merged if code is None
        ]
        return list(dict.fromkeys(codes)), unknown

    @staticmethod
    def _touching(
        text: str,
        tokens: Sequence[_Token],
        left: tuple[str | None, int, int],
        right: tuple[str | None, int, int],
    ) -> bool:
        """Whether nothing separates two parts of an entry (no punctuation, no "và")."""
        if right[1] != left[2] + 1:
            return False  # a joiner word between them
        gap = text[tokens[left[2]][2] : tokens[right[1]][1]]
        return not any(char in ",;/&\n+" for char in gap)

    def suggest(self, text: str, limit: int = 3) -> list[Unit]:
        """The known units whose names are nearest to ``text`` (an unknown unit as a plan wrote it)."""
        bare = " ".join(word for word in alias_key(text) if word != _PHONG)  # "Phòng" says nothing here
        scored: list[tuple[float, int, Unit]] = []
        for order, unit in enumerate(self.units):
            best = 0.0
            for _name, alias in _unit_keys(unit):
                words = [word for word in alias if word != _PHONG]
                best = max(best, SequenceMatcher(None, bare, " ".join(words)).ratio())
                if len(words) > 1 and bare.replace(" ", "") == "".join(word[0] for word in words):
                    best = max(best, 0.95)  # "TCCB" for "Tổ chức cán bộ"
            if best >= SUGGESTION_THRESHOLD:
                scored.append((best, order, unit))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [unit for _, _, unit in scored[:limit]]

    def _match_at(self, keys: Sequence[str], position: int) -> tuple[str, int] | None:
        match = self._match(keys, position)
        if match is None and keys[position] == _PHONG and position + 1 < len(keys):
            match = self._match(keys, position + 1)  # "Phòng Thanh tra" for the unit "Thanh tra"
            if match is not None:
                match = (match[0], match[1] + 1)
        return match

    def _match(self, keys: Sequence[str], position: int) -> tuple[str, int] | None:
        for key, code in self._index.get(keys[position], ()):
            if tuple(keys[position : position + len(key)]) == key:
                return code, len(key)
        return None

    def _unmatched(self, text: str, tokens: Sequence[_Token], start: int) -> str:
        """The text from ``tokens[start]`` up to the next place a unit name starts."""
        keys = [key for key, _, _ in tokens]
        end = start
        for position in range(start + 1, len(tokens)):
            if self._match_at(keys, position) is not None:
                break
            if keys[position] not in _JOINERS:
                end = position
        return text[tokens[start][1] : tokens[end][2]]


# --- loading -------------------------------------------------------------------------------------


class _Fields:
    """Typed access to the parsed YAML, raising :class:`UnitsFileError` with the field's path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, path: str, message: str) -> UnitsFileError:
        return UnitsFileError(self.file, path, message)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, "phải là một bảng 'khoá: giá trị'")
        return value

    def sequence(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(path, "phải là một danh sách")
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.error(f"{path}.{key}", "thiếu trường bắt buộc")
            return None
        if not isinstance(value, str):
            raise self.error(f"{path}.{key}", "phải là chuỗi ký tự (viết trong dấu ngoặc kép)")
        return clean(value)

    def required(self, data: Mapping[str, Any], key: str, path: str) -> str:
        return self.text(data, key, path) or ""  # text() raises when a required field is missing

    def flag(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"{path}.{key}", "phải là true hoặc false")
        return value

    def code(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
        value = self.text(data, key, path, required)
        if value is not None and not _CODE.match(value):
            raise self.error(
                f"{path}.{key}", f"mã '{value}' chỉ được gồm chữ cái không dấu, chữ số, '_' và '-'"
            )
        return value


def _contacts(fields: _Fields, value: Any, path: str) -> Contacts:
    if value is None:
        return Contacts()
    data = fields.mapping(value, path)
    for channel in data:
        if channel not in CHANNELS:
            raise fields.error(
                f"{path}.{channel}", f"kênh liên lạc không được hỗ trợ (chỉ nhận: {', '.join(CHANNELS)})"
            )
    values = {channel: fields.text(data, channel, path, required=False) for channel in CHANNELS}
    return Contacts(**values)


def _person(fields: _Fields, value: Any, path: str) -> Person:
    data = fields.mapping(value, path)
    return Person(
        code=fields.code(data, "code", path, required=False),
        name=fields.required(data, "name", path),
        title=fields.required(data, "title", path),
        contacts=_contacts(fields, data.get("contacts"), f"{path}.contacts"),
        bundle=fields.flag(data, "bundle", path, True),
    )


def _unit(fields: _Fields, value: Any, path: str) -> Unit:
    data = fields.mapping(value, path)
    kind = fields.required(data, "kind", path)
    if kind not in KINDS:
        raise fields.error(
            f"{path}.kind", f"loại đơn vị '{kind}' không hợp lệ (chỉ nhận: {', '.join(KINDS)})"
        )
    aliases: list[str] = []
    for number, alias in enumerate(fields.sequence(data.get("aliases"), f"{path}.aliases"), start=1):
        if not isinstance(alias, str) or not alias.strip():
            raise fields.error(f"{path}.aliases[{number}]", "tên gọi phải là chuỗi ký tự không rỗng")
        aliases.append(clean(alias))
    head = data.get("head")
    return Unit(
        code=fields.code(data, "code", path) or "",
        name=fields.required(data, "name", path),
        kind=kind,
        aliases=tuple(aliases),
        head=None if head is None else _person(fields, head, f"{path}.head"),
        contacts=_contacts(fields, data.get("contacts"), f"{path}.contacts"),
        supervisor=fields.code(data, "supervisor", path, required=False),
        bundle=fields.flag(data, "bundle", path, True),
    )


def _check_references(fields: _Fields, units: Iterable[Unit], office: str, leaders: Iterable[Person]) -> None:
    seen: set[str] = set()
    for number, unit in enumerate(units, start=1):
        if unit.code in seen:
            raise fields.error(f"units[{number}].code", f"mã đơn vị '{unit.code}' bị trùng")
        seen.add(unit.code)
    if office not in seen:
        raise fields.error("office", f"Văn phòng '{office}' không có trong danh sách đơn vị (units)")
    leader_codes = {person.code for person in leaders if person.code}
    for number, unit in enumerate(units, start=1):
        if unit.supervisor is not None and unit.supervisor not in leader_codes:
            raise fields.error(
                f"units[{number}].supervisor",
                f"không có lãnh đạo mã '{unit.supervisor}' trong mục leadership",
            )


def parse_directory(data: Any, file: str) -> Directory:
    """Build the directory from parsed YAML; field paths in errors count units from 1."""
    fields = _Fields(file)
    root = fields.mapping(data, "(gốc)")
    leadership = fields.mapping(root.get("leadership"), "leadership")
    director = _person(fields, leadership.get("director"), "leadership.director")
    deputies = tuple(
        _person(fields, item, f"leadership.deputies[{number}]")
        for number, item in enumerate(
            fields.sequence(leadership.get("deputies"), "leadership.deputies"), start=1
        )
    )
    unit_items = fields.sequence(root.get("units"), "units")
    if not unit_items:
        raise fields.error("units", "danh sách đơn vị trống")
    units = tuple(_unit(fields, item, f"units[{number}]") for number, item in enumerate(unit_items, start=1))
    office = fields.code(root, "office", "(gốc)") or ""
    _check_references(fields, units, office, (director, *deputies))
    try:
        return Directory(units=units, office=office, director=director, deputies=deputies)
    except ValueError as error:
        raise fields.error("units.aliases", str(error)) from None


def load_directory(path: Path | str) -> Directory:
    """Read the unit directory YAML file; any problem raises :class:`UnitsFileError` naming file and field."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UnitsFileError(file, None, "Không tìm thấy tệp danh mục đơn vị") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UnitsFileError(file, None, f"Không đọc được tệp danh mục đơn vị ({error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" ở dòng {mark.line + 1}" if mark is not None else ""
        raise UnitsFileError(file, None, f"Tệp YAML sai cú pháp{where}") from None
    return parse_directory(data, file)
