"""A fake Telegram Bot API server on 127.0.0.1, answering the way api.telegram.org does.

It runs in its own thread (``http.server``), so python-telegram-bot talks to it
over real HTTP through ``Bot(base_url=f"{fake.url}/bot")``. It handles
``sendMessage``, ``getMe`` and ``getUpdates``; validates the token, the text
length and the HTML parse mode like the real API; records every accepted
message with its arrival time; and fails on demand per chat (flood control,
blocked bot, unknown chat, group migrated to a supergroup, server errors).

Usage::

    with FakeTelegram() as fake:
        fake.block("42")
        ... send through TelegramNotifier(fake.token, api_url=fake.url) ...
        assert fake.texts_to("7") == ["Xin chào"]
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_TOKEN = "7012345678:AAH3fake-Token_for-nhacviec-tests0"
MAX_TEXT_LENGTH = 4096

# Telegram's HTML parse mode: these tags only (span only as class="tg-spoiler").
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTRIBUTE = re.compile(r"""\s*([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is the API's own wording."""


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]]


def parse_html(markup: str) -> ParsedText:
    """Parse Telegram HTML as the Bot API does: the visible text and its entities (UTF-16 offsets)."""
    out: list[str] = []
    units = 0  # UTF-16 length of the text so far
    stack: list[tuple[str, int, dict[str, str]]] = []  # (tag, start offset, attributes)
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(markup):
        char = markup[i]
        if char == "&":
            match = _ENTITY.match(markup, i)
            decoded = _decode_entity(match.group(1)) if match else "&"
            i = match.end() if match else i + 1
        elif char == "<":
            offset = len(markup[:i].encode("utf-8"))
            close = markup.find(">", i)
            if markup.startswith("</", i):
                if close == -1:
                    raise EntityParseError(f"Can't find end tag at byte offset {offset}")
                name = markup[i + 2 : close].strip().lower()
                if not stack:
                    raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
                tag, start, attributes = stack.pop()
                if name and name != tag:
                    raise EntityParseError(
                        f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"'
                    )
                if units > start:
                    entities.append(_entity(tag, start, units - start, attributes))
                i = close + 1
                continue
            name = _TAG_NAME.match(markup, i + 1).group().lower()  # type: ignore[union-attr]
            if name not in _ENTITY_TYPES:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            if close == -1:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
            attributes = {m[1].lower(): m[2] or m[3] or m[4] for m in _ATTRIBUTE.finditer(markup[i:close])}
            if name == "span" and attributes.get("class") != "tg-spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
            stack.append((name, units, attributes))
            i = close + 1
            continue
        else:
            decoded = char
            i += 1
        out.append(decoded)
        units += _utf16_len(decoded)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return ParsedText("".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"])))


def _decode_entity(name: str) -> str:
    if name.startswith("#"):
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    return _NAMED_ENTITIES[name]


def _entity(tag: str, offset: int, length: int, attributes: dict[str, str]) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _ENTITY_TYPES[tag], "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attributes.get("href", "")
    return entity


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def chat_type(chat_id: str) -> str:
    if chat_id.startswith("-100"):
        return "supergroup"
    if chat_id.startswith("-"):
        return "group"
    if chat_id.startswith("@"):
        return "channel"
    return "private"


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted."""

    message_id: int
    chat_id: str
    text: str  # as sent (the HTML markup with parse_mode=HTML)
    visible_text: str  # after entity parsing, as a Telegram client shows it
    parse_mode: str | None
    params: dict[str, Any]
    arrived: float  # time.monotonic() when the request arrived


@dataclass
class ScriptedError:
    """An answer the fake gives instead of success: ``times`` more times, or forever when None."""

    status: int
    description: str
    parameters: dict[str, Any] | None = None
    times: int | None = 1
    after: int = 0  # let this many more messages to the chat through first (a failure in a message's parts)


@dataclass
class RequestRecord:
    method: str
    chat_id: str | None
    status: int
    arrived: float


@dataclass
class _State:
    sent: list[SentMessage] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    errors: dict[str, list[ScriptedError]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_message_id: int = 1
    next_update_id: int = 1


class FakeTelegram:
    """The fake Bot API server. Thread-safe: tests read its records while it serves."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, latency: float = 0.0) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.latency = latency  # seconds each request takes (simulated network and server time)
        self._state = _State()
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server root: give it to TelegramNotifier as ``api_url``."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- scripting ------------------------------------------------------------------------------

    def fail(self, chat_id: str, error: ScriptedError) -> None:
        """Answer the next sendMessage calls to ``chat_id`` with ``error`` (queued after earlier ones)."""
        with self._lock:
            self._state.errors.setdefault(str(chat_id), []).append(error)

    def flood(self, chat_id: str, retry_after: int, times: int = 1) -> None:
        description = f"Too Many Requests: retry after {retry_after}"
        self.fail(chat_id, ScriptedError(429, description, {"retry_after": retry_after}, times))

    def block(self, chat_id: str) -> None:
        """The user blocked the bot: every later message to them is refused."""
        self.fail(chat_id, ScriptedError(403, "Forbidden: bot was blocked by the user", times=None))

    def kick(self, chat_id: str) -> None:
        self.fail(chat_id, ScriptedError(403, "Forbidden: bot was kicked from the group chat", times=None))

    def forget(self, chat_id: str) -> None:
        """No such chat (a wrong id, or a user who never started the bot)."""
        self.fail(chat_id, ScriptedError(400, "Bad Request: chat not found", times=None))

    def migrate(self, chat_id: str, new_chat_id: str) -> None:
        """The group became a supergroup: the old id answers 400 with ``migrate_to_chat_id`` for good."""
        description = "Bad Request: group chat was upgraded to a supergroup chat"
        parameters = {"migrate_to_chat_id": int(new_chat_id)}
        self.fail(chat_id, ScriptedError(400, description, parameters, times=None))

    def queue_update(self, update: dict[str, Any]) -> int:
        """Add an update for getUpdates (its ``update_id`` is assigned here); returns the id."""
        with self._lock:
            update_id = self._state.next_update_id
            self._state.next_update_id += 1
            self._state.updates.append({**update, "update_id": update_id})
            self._lock.notify_all()
        return update_id

    def queue_text_from(self, chat_id: str, text: str, *, user_id: int | None = None) -> int:
        """A private text message from a user to the bot (what /start or a reply looks like)."""
        user = {"id": user_id or int(chat_id), "is_bot": False, "first_name": "Cán bộ", "language_code": "vi"}
        with self._lock:
            message_id = self._take_message_id()
        message = {
            "message_id": message_id,
            "from": user,
            "chat": _chat_object(str(chat_id)),
            "date": int(time.time()),
            "text": text,
        }
        return self.queue_update({"message": message})

    # --- records --------------------------------------------------------------------------------

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._state.sent)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._state.requests)

    def messages_to(self, chat_id: str) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == str(chat_id)]

    def texts_to(self, chat_id: str) -> list[str]:
        return [message.text for message in self.messages_to(chat_id)]

    # --- API methods (called from the server threads) -------------------------------------------

    def _take_message_id(self) -> int:
        message_id = self._state.next_message_id
        self._state.next_message_id += 1
        return message_id

    def _scripted_error(self, chat_id: str) -> ScriptedError | None:
        queue = self._state.errors.get(chat_id)
        if not queue:
            return None
        error = queue[0]
        if error.after > 0:
            error.after -= 1
            return None
        if error.times is not None:
            error.times -= 1
            if error.times <= 0:
                queue.pop(0)
        return error

    def send_message(self, params: dict[str, Any], arrived: float) -> tuple[int, dict[str, Any]]:
        chat_id = str(params.get("chat_id", "")).strip()
        if not chat_id:
            return _error(400, "Bad Request: chat_id is empty")
        with self._lock:
            scripted = self._scripted_error(chat_id)
        if scripted is not None:
            return _error(scripted.status, scripted.description, scripted.parameters)
        markup = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and str(parse_mode).lower() == "html":
            try:
                parsed = parse_html(markup)
            except EntityParseError as exc:
                return _error(400, f"Bad Request: can't parse entities: {exc}")
        elif parse_mode is None:
            parsed = ParsedText(markup, [])
        else:
            return _error(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        visible = parsed.text.strip()
        if not visible:
            return _error(400, "Bad Request: message text is empty")
        if _utf16_len(visible) > MAX_TEXT_LENGTH:
            return _error(400, "Bad Request: message is too long")
        with self._lock:
            message_id = self._take_message_id()
            self._state.sent.append(
                SentMessage(message_id, chat_id, markup, visible, parse_mode, params, arrived)
            )
        result = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": _chat_object(chat_id),
            "date": int(time.time()),
            "text": visible,
        }
        if parsed.entities:
            result["entities"] = parsed.entities
        return 200, {"ok": True, "result": result}

    def get_me(self, params: dict[str, Any], arrived: float) -> tuple[int, dict[str, Any]]:
        return 200, {"ok": True, "result": self._bot_user(full=True)}

    def get_updates(self, params: dict[str, Any], arrived: float) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        with self._lock:
            while True:
                if offset:  # confirms (drops) every update before the offset
                    self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
                pending = self._state.updates[:limit]
                remaining = deadline - time.monotonic()
                if pending or remaining <= 0:
                    return 200, {"ok": True, "result": pending}
                self._lock.wait(remaining)

    def _bot_user(self, *, full: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Nhắc việc",
            "username": "nhacviec_test_bot",
        }
        if full:
            user |= {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        return user

    def _record(self, method: str, chat_id: str | None, status: int, arrived: float) -> None:
        with self._lock:
            self._state.requests.append(RequestRecord(method, chat_id, status, arrived))


def _chat_object(chat_id: str) -> dict[str, Any]:
    kind = chat_type(chat_id)
    chat: dict[str, Any] = {"id": int(chat_id) if kind != "channel" else -1001234567890, "type": kind}
    if kind == "private":
        chat["first_name"] = "Cán bộ"
    else:
        chat["title"] = "Nhóm nhắc việc"
    return chat


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


_METHODS: dict[str, Callable[[FakeTelegram, dict[str, Any], float], tuple[int, dict[str, Any]]]] = {
    "sendmessage": FakeTelegram.send_message,
    "getme": FakeTelegram.get_me,
    "getupdates": FakeTelegram.get_updates,
}
_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, like the real API; JSON, form or query-string parameters."""

    fake: FakeTelegram
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        arrived = time.monotonic()
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.fake
        if fake.latency:
            time.sleep(fake.latency)
        match = _PATH.match(url.path)
        params = dict(parse_qsl(url.query))
        try:
            params |= self._body_params(body)
        except ValueError:
            status, answer = _error(400, "Bad Request: can't parse request parameters")
        else:
            if match is None:
                status, answer = _error(404, "Not Found")
            elif match["token"] != fake.token:
                status, answer = _error(401, "Unauthorized")
            elif (method := _METHODS.get(match["method"].lower())) is None:
                status, answer = _error(404, "Not Found")
            else:
                status, answer = method(fake, params, arrived)
        fake._record(match["method"] if match else url.path, params.get("chat_id"), status, arrived)
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body_params(self, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            params = json.loads(body)
            if not isinstance(params, dict):
                raise ValueError("not an object")
            return params
        if content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        raise ValueError(f"unsupported content type {content_type}")


def arrival_gaps(messages: list[SentMessage]) -> list[float]:
    """Seconds between consecutive arrivals."""
    times = sorted(message.arrived for message in messages)
    return [later - earlier for earlier, later in pairwise(times)]


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most events (arrivals, sends) within any half-open window of ``window`` seconds."""
    times = sorted(times)
    best, start = 0, 0
    for end, arrived in enumerate(times):
        while arrived - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
