"""The Telegram bot units answer with: list their tasks, report a task done, a report sent, ask for more time.

:class:`CompletionBot` is the core: one text from one chat in, one reply out
(plus notices for the Office), reading and writing the database; it knows
nothing of HTTP. :func:`poll` is the loop around it: long polling with
python-telegram-bot's ``Bot.get_updates``, simple to stop (an ``asyncio.Event``)
and to test against the fake Bot API. An update is confirmed to Telegram (by
the next ``offset``) only after it was handled, so a restart never replays a command.

A chat is heard only when it is registered for a unit: it is the unit's
``telegram_chat_id`` or its head's (the directory in the database, read again
for each message), or the supergroup such a group became (``address_aliases``).
A chat acts only on the tasks its unit leads. Any chat may send ``/start CODE``
with an invite code (store.invites): that binds the chat to the code's unit,
head or leader. Every refusal is logged at WARNING with its reason (never the token).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session, select
from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError

from config import DEFAULT_TIMEZONE
from notifiers.telegram import (
    DEFAULT_API_URL,
    TOKEN_HINT,
    chat_id_value,
    protect_token,
    redact,
    root_url,
    split_html,
)
from plan.errors import UserError, say
from plan.text import clean
from plan.units import Directory
from planner.occurrences import normalise_period
from planner.periods import ReportPeriod, parse_period
from store.db import session_scope
from store.directory import current_directory
from store.invites import redeem
from store.models import AddressAlias, Task, Unit
from store.reports import lead_units, record_report, report_period, request_extension
from store.tasks import find_task, get_plan, list_tasks, mark_done, task_occurrences

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from config.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TZ = ZoneInfo(DEFAULT_TIMEZONE)  # run_bot passes the settings' own (NHACVIEC_TIMEZONE)
VIA = "telegram"
CONTENT_CHARS = 90  # a task's content in /nhiemvu is cut to this many characters
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z_]+)(?:@(?P<bot>\w+))?(?:\s+(?P<args>.*))?$", re.DOTALL)

USAGE = {
    "nhiemvu": "/nhiemvu — các nhiệm vụ đơn vị đang chủ trì",
    "xong": "/xong MÃ [ghi chú] — báo hoàn thành, ví dụ: /xong IV.4 Đã ban hành Quyết định số 12/QĐ-SGDĐT"
    " (việc định kỳ, từng kỳ: /xong II.3 2026-11 ghi chú)",
    "baocao": "/baocao KỲ — báo đã gửi báo cáo định kỳ (Q1…Q4, H1, 9M, Y), ví dụ: /baocao Q1",
    "giahan": "/giahan MÃ NGÀY lý do — đề nghị gia hạn, ví dụ: /giahan IV.4 31/12/2020 Chờ ý kiến của Sở Nội vụ",
    "help": "/help — hướng dẫn này",
}
HELP = "Bot Nhắc việc nhận các lệnh:\n" + "\n".join(USAGE.values())
SORRY = "Xin lỗi, hệ thống đang gặp sự cố nên chưa xử lý được yêu cầu; anh/chị vui lòng thử lại sau."


# What to do about an error raised low (plan.errors.Fix), in the bot's words: a command a unit may send.
FIX_HINTS = {
    "extend": "để lùi hạn hãy gửi /giahan {task} NGÀY lý do.",
}


@dataclass(frozen=True)
class Notice:
    """A message the bot sends on its own, beside the reply (the Office told of a request)."""

    chat_id: str
    text: str


@dataclass(frozen=True)
class Reply:
    text: str
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class _Request:
    chat_id: str
    user: str
    text: str
    units: tuple[str, ...]
    args: str
    day: date

    @property
    def actor(self) -> str:
        return f"telegram:{self.user}"[:128]


class CompletionBot:
    """Turns one chat's text into the change it asks for and the reply to send (no network here)."""

    def __init__(
        self, engine: Engine, directory: Directory, *, plan_code: str | None = None, tz: ZoneInfo = DEFAULT_TZ
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.plan_code = plan_code  # None: the newest plan
        self.tz = tz  # the day a command means ("xong" today) and the moments replies show
        self.username: str | None = None  # the bot's own name, to skip "/cmd@other_bot" in groups
        self._chats: dict[str, tuple[str, ...]] = {}
        self._load_chats(directory)

    def _load_chats(self, directory: Directory) -> None:
        self.directory = directory
        chats: dict[str, tuple[str, ...]] = {}
        for unit in directory.units:
            for chat in {
                unit.contacts.telegram_chat_id,
                unit.head.contacts.telegram_chat_id if unit.head else None,
            } - {None}:
                key = str(chat).strip()
                chats[key] = (*chats.get(key, ()), unit.code)
        self._chats = chats

    def _reload(self, session: Session) -> None:
        """Read the directory again: a chat bound by an invite or unbound on the web counts at once."""
        if session.exec(select(Unit.code)).first() is not None:
            self._load_chats(current_directory(session))

    # --- who is talking ---------------------------------------------------------------------------

    def units_for_chat(self, session: Session, chat_id: str) -> tuple[str, ...]:
        """The units a chat speaks for: registered directly, or through the group it used to be."""
        units = self._chats.get(chat_id, ())
        if units:
            return units
        olds = session.exec(
            select(AddressAlias.old).where(AddressAlias.channel == VIA, AddressAlias.new == chat_id)
        )
        found: list[str] = []
        for old in olds:
            found += [code for code in self._chats.get(old.strip(), ()) if code not in found]
        return tuple(found)

    def unit_name(self, code: str) -> str:
        unit = self.directory.get(code)
        return unit.name if unit else code

    def names(self, codes: Sequence[str]) -> str:
        return ", ".join(self.unit_name(code) for code in codes)

    # --- the core -----------------------------------------------------------------------------------

    def handle_text(
        self, chat_id: str, user: str, text: str, now: datetime, *, chat_title: str | None = None
    ) -> Reply | None:
        """The reply to ``text`` from ``chat_id`` (None: nothing to say, e.g. chatter in a group)."""
        chat_id = str(chat_id).strip()
        match = _COMMAND.match(text.strip())
        is_group = chat_id.startswith("-")
        if match and match["bot"] and self.username and match["bot"].lower() != self.username.lower():
            return None  # a command for another bot in the same group
        if match and match["name"].lower() == "start" and clean(match["args"] or ""):
            return self._bind(chat_id, user, text, clean(match["args"] or ""), now, chat_title)
        with session_scope(self.engine) as session:
            self._reload(session)
            units = self.units_for_chat(session, chat_id)
            if not units:
                if match is None and is_group:
                    return None
                return self._refuse(chat_id, user, text, "unregistered chat", self._unregistered(chat_id))
            if match is None:
                return None if is_group else Reply(HELP)
            request = _Request(
                chat_id=chat_id,
                user=user,
                text=text,
                units=units,
                args=clean(match["args"] or ""),
                day=now.astimezone(self.tz).date(),
            )
            command = match["name"].lower()
            handler = self._commands().get(command)
            if handler is None:
                return Reply(f"Bot không có lệnh /{command}.\n\n{HELP}")
            try:
                return handler(session, request)
            except UserError as error:  # a task that does not exist, already done, a wrong date...
                session.rollback()
                return Reply(say(error, FIX_HINTS))

    def _commands(self) -> dict[str, Callable[[Session, _Request], Reply]]:
        return {
            "start": self._help,
            "help": self._help,
            "nhiemvu": self._tasks,
            "xong": self._done,
            "baocao": self._report,
            "giahan": self._extension,
        }

    def _unregistered(self, chat_id: str) -> str:
        office = self.directory.office_unit.name
        return (
            "Nhóm chat này chưa được đăng ký với đơn vị nào nên bot chưa nhận lệnh. "
            f"Đề nghị anh/chị xin {office} mã mời rồi gửi /start MÃ_MỜI tại đây "
            f"(hoặc báo {office} mã chat {chat_id} để được đăng ký)."
        )

    def _bind(self, chat_id: str, user: str, text: str, code: str, now: datetime, title: str | None) -> Reply:
        """``/start CODE``: bind this chat to the recipient of an invite code (store.invites)."""
        label = f"{title} ({user})" if title else user
        try:
            with session_scope(self.engine) as session:
                bound = redeem(session, code, VIA, chat_id, label, now=now.astimezone(self.tz))
                self._load_chats(current_directory(session))
        except UserError as error:
            return self._refuse(chat_id, user, text, "invite refused", str(error))
        log.info("bot: chat=%s bound to %s by invite (user=%s)", chat_id, bound.target.code, user)
        here = "Nhóm chat này" if chat_id.startswith("-") else "Chat này"
        return Reply(
            f"{here} đã được liên kết với {bound.target.name}: từ nay nhắc việc gửi {bound.target.name} "
            f"qua Telegram sẽ đến đây.\n\n{HELP}"
        )

    def _refuse(self, chat_id: str, user: str, text: str, reason: str, message: str) -> Reply:
        log.warning("bot refused chat=%s user=%s text=%r reason=%s", chat_id, user, text[:200], reason)
        return Reply(message)

    # --- commands -----------------------------------------------------------------------------------

    def _help(self, session: Session, request: _Request) -> Reply:
        return Reply(f"Nhóm chat này thuộc {self.names(request.units)}.\n\n{HELP}")

    def _tasks(self, session: Session, request: _Request) -> Reply:
        blocks = []
        for unit in request.units:
            views = [
                view
                for view in list_tasks(session, plan_code=self.plan_code, unit=unit, status="open")
                if unit in view.lead
            ]
            if not views:
                blocks.append(f"{self.unit_name(unit)} không có nhiệm vụ chủ trì nào đang thực hiện.")
                continue
            lines = [
                f"Nhiệm vụ {self.unit_name(unit)} chủ trì chưa hoàn thành "
                f"(kế hoạch {views[0].plan_code}, tính đến {request.day:%d/%m/%Y}):"
            ]
            lines += [_task_line(view.task, view.is_overdue(request.day), view.due) for view in views]
            blocks.append("\n".join(lines))
        return Reply("\n\n".join([*blocks, "Báo hoàn thành: /xong MÃ [ghi chú]"]))

    def _own_task(self, session: Session, request: _Request, usage: str) -> tuple[Task | None, Reply | None]:
        """The task named first in the arguments, if the chat's unit leads it; else the reply to give."""
        code = request.args.split(" ", 1)[0].partition("@")[0]
        if not code:
            return None, Reply(f"Thiếu mã nhiệm vụ. Cú pháp: {USAGE[usage]}\n\n{HELP}")
        task = find_task(session, code, self.plan_code, units=request.units)
        lead = lead_units(session, task)
        if not set(lead) & set(request.units):
            message = (
                f"Nhiệm vụ {task.code} do {self.names(lead) or 'đơn vị khác'} chủ trì, "
                "đơn vị của anh/chị không cập nhật được."
            )
            return None, self._refuse(
                request.chat_id, request.user, request.text, "not the lead unit", message
            )
        return task, None

    def _done(self, session: Session, request: _Request) -> Reply:
        task, refusal = self._own_task(session, request, "xong")
        if task is None:
            return refusal or Reply(HELP)
        first, _, note = request.args.partition(" ")
        period = first.partition("@")[2] or None
        if period is None and task_occurrences(session, task):  # "/xong IV.4 2026-11 ghi chú": that period
            word, _, rest = note.partition(" ")
            if normalise_period(word) is not None:
                period, note = word, rest
        occurrence = mark_done(
            session, task, on=request.day, actor=request.actor, via=VIA, note=note or None, period=period
        )
        label = f"{task.code} kỳ {occurrence.period}" if occurrence else task.code
        return Reply(f"Đã ghi nhận nhiệm vụ {label} hoàn thành ngày {request.day:%d/%m/%Y}. Cảm ơn anh/chị!")

    def _report(self, session: Session, request: _Request) -> Reply:
        plan = get_plan(session, self.plan_code)
        if not request.args:
            return Reply(f"Thiếu kỳ báo cáo. Cú pháp: {USAGE['baocao']}\n\n{HELP}")
        period, rest = _split_period(request.args, plan.year)
        unit = request.units[0]
        if len(request.units) > 1:
            chosen = [code for code in request.units if rest[:1] and rest[0].upper() == code]
            if not chosen:
                codes = ", ".join(request.units)
                return Reply(
                    f"Nhóm chat này thuộc nhiều đơn vị ({codes}): ghi thêm mã đơn vị, ví dụ /baocao "
                    f"{period.code} {request.units[0]}."
                )
            unit, rest = chosen[0], rest[1:]
        recorded = record_report(
            session,
            plan.code,
            unit,
            period.code,
            request.day,
            request.actor,
            VIA,
            " ".join(rest) or None,
        )
        received = recorded.submission.received_on
        if recorded.created:
            return Reply(
                f"Đã ghi nhận {period.title} của {self.unit_name(unit)} (ngày nhận {received:%d/%m/%Y}). "
                "Cảm ơn anh/chị!"
            )
        return Reply(
            f"{period.title} của {self.unit_name(unit)} đã được ghi nhận từ ngày {received:%d/%m/%Y}."
        )

    def _extension(self, session: Session, request: _Request) -> Reply:
        from plan.dates import parse_date

        parts = request.args.split(" ", 2)
        if len(parts) < 3:
            return Reply(f"Thiếu thông tin. Cú pháp: {USAGE['giahan']}\n\n{HELP}")
        task, refusal = self._own_task(session, request, "giahan")
        if task is None:
            return refusal or Reply(HELP)
        new_due = parse_date(parts[1], "ngày đề nghị gia hạn")
        event = request_extension(
            session, task, to=new_due, reason=parts[2], on=request.day, actor=request.actor, via=VIA
        )
        office = self.directory.office_unit
        current = f"{event.old_due:%d/%m/%Y}" if event.old_due else "chưa có"
        notice = (
            f"Đề nghị gia hạn nhiệm vụ {task.code} của {self.names(request.units)}: hạn hiện tại {current}, "
            f"đề nghị đến {new_due:%d/%m/%Y}.\nLý do: {event.note}\nNgười gửi: {request.actor}\n"
            f"Duyệt: nhacviec extensions approve {task.code}\n"
            f'Không duyệt: nhacviec extensions reject {task.code} --reason "..."'
        )
        office_chat = office.contacts.telegram_chat_id or (
            office.head.contacts.telegram_chat_id if office.head else None
        )
        notices: tuple[Notice, ...] = ()
        if office_chat is None:
            log.warning("extension request for %s: the Office has no Telegram chat to tell", task.code)
        elif office_chat != request.chat_id:  # the Office asking for itself already sees the reply
            notices = (Notice(office_chat, notice),)
        return Reply(
            f"Đã gửi {office.name} đề nghị gia hạn nhiệm vụ {task.code} đến ngày {new_due:%d/%m/%Y}. "
            "Hạn chỉ thay đổi khi đề nghị được duyệt.",
            notices,
        )


def _shorten(text: str, limit: int = CONTENT_CHARS) -> str:
    text = clean(text).lstrip("-–• ")
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:.") + "…"


def _task_line(task: Task, overdue: bool, due: date | None = None) -> str:
    due = due or task.effective_due
    when = f"hạn {due:%d/%m/%Y}" if due else "chưa có hạn"
    return f"• {task.code} — {_shorten(task.content)} — {when}" + (" — QUÁ HẠN" if overdue else "")


def _split_period(args: str, year: int) -> tuple[ReportPeriod, list[str]]:
    """The period written first in ``args`` ("Q1", "Quý I", "6 tháng"), and the words after it."""
    words = args.split()
    for length in range(min(4, len(words)), 0, -1):
        with suppress(ValueError):
            return parse_period(" ".join(words[:length]), year), words[length:]
    return report_period(words[0], year), words[1:]  # raises the error that lists the valid codes


# --- the polling loop ---------------------------------------------------------------------------------

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


async def _until_stopped(work: Awaitable[T], stop_event: asyncio.Event) -> tuple[bool, T | None]:
    """``work``'s result, or (False, None) as soon as ``stop_event`` is set (``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop_event.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        stopper.cancel()
        return True, task.result()
    task.cancel()
    with suppress(asyncio.CancelledError, TelegramError):
        await task
    return False, None


def user_label(message: Message) -> str:
    """Who wrote: the Telegram user id (stable), with the @username when there is one."""
    user = message.from_user
    if user is None:
        return "unknown"
    return f"{user.id}@{user.username}" if user.username else str(user.id)


async def poll(
    bot: Bot,
    handler: CompletionBot,
    stop_event: asyncio.Event,
    *,
    poll_timeout: float = 10.0,
    retry_delay: float = 5.0,
    clock: Callable[[], datetime] = _now,
) -> None:
    """Answer every command sent to ``bot`` until ``stop_event`` is set.

    An invalid token stops the loop (with :class:`telegram.error.InvalidToken`); network and
    server errors are logged and retried after ``retry_delay`` seconds.
    """
    protect_token(bot.token)  # keep it out of python-telegram-bot's and httpx's log lines
    await bot.initialize()
    handler.username = bot.username
    offset: int | None = None
    while not stop_event.is_set():
        try:
            got, updates = await _until_stopped(
                bot.get_updates(offset=offset, timeout=int(poll_timeout), allowed_updates=["message"]),
                stop_event,
            )
        except InvalidToken:
            raise
        except TelegramError as error:
            log.warning("Telegram getUpdates failed: %s", redact(error.message))
            await _until_stopped(asyncio.sleep(retry_delay), stop_event)
            continue
        if not got:
            break
        for update in updates or ():
            offset = update.update_id + 1
            await _answer(bot, handler, update, clock())
    if offset is not None:  # confirm what was handled, so a restart does not replay it
        with suppress(TelegramError):
            await bot.get_updates(offset=offset, timeout=0, allowed_updates=["message"])


async def _answer(bot: Bot, handler: CompletionBot, update: Update, now: datetime) -> None:
    message = update.message
    if message is None or message.text is None or (message.from_user and message.from_user.is_bot):
        return
    chat_id = str(message.chat_id)
    try:
        chat = message.chat
        title = chat.title or " ".join(part for part in (chat.first_name, chat.last_name) if part) or None
        reply = await asyncio.to_thread(
            handler.handle_text, chat_id, user_label(message), message.text, now, chat_title=title
        )
    except Exception:  # a bug or a database outage: say so, keep serving the others
        log.exception("bot could not handle update %s from chat=%s", update.update_id, chat_id)
        reply = Reply(SORRY)
    if reply is None:
        return
    await send_text(bot, chat_id, reply.text, reply_to=message.message_id)
    for notice in reply.notices:
        await send_text(bot, notice.chat_id, notice.text)


async def send_text(bot: Bot, chat_id: str, text: str, *, reply_to: int | None = None) -> bool:
    """Send plain ``text`` (split when too long); False, logged, when Telegram refuses it."""
    reply_parameters = (
        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    )
    try:
        for part in split_html(html.escape(text, quote=False)):
            await bot.send_message(
                chat_id=chat_id_value(chat_id),
                text=part,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_parameters=reply_parameters,
            )
            reply_parameters = None
    except TelegramError as error:
        log.warning("bot could not send to chat=%s: %s", chat_id, redact(error.message))
        return False
    return True


def make_bot(settings: Settings) -> Bot:
    """The bot configured by ``NHACVIEC_TELEGRAM_TOKEN`` and ``NHACVIEC_TELEGRAM_API_URL``."""
    if settings.telegram_token is None:
        raise ValueError(f"Chưa cấu hình bot Telegram: {TOKEN_HINT}.")
    token = settings.telegram_token.get_secret_value()
    protect_token(token)
    root = root_url(settings.telegram_api_url or DEFAULT_API_URL)
    return Bot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot")


async def run_bot(
    settings: Settings,
    engine: Engine,
    directory: Directory,
    stop_event: asyncio.Event,
    *,
    plan_code: str | None = None,
) -> None:
    """The bot service: poll until ``stop_event`` is set, then close the connections."""
    async with make_bot(settings) as bot:
        await poll(bot, CompletionBot(engine, directory, plan_code=plan_code, tz=settings.tz), stop_event)
