"""What every command shares: the console, dates typed by users, the store, the directory."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console

from plan.dates import parse_date
from plan.errors import UserError, say

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from config.settings import Settings
    from plan.units import Directory

console = Console()
err_console = Console(stderr=True)


def tz() -> ZoneInfo:
    """The time zone of dates typed and shown (NHACVIEC_TIMEZONE)."""
    return settings().tz


WEEKDAY_SHORT = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")

# What to do about an error raised low (plan.errors.Fix), in the CLI's words: a command.
FIX_HINTS = {
    "import_plan": "Hãy chạy 'nhacviec init' hoặc 'nhacviec plan import'.",
    "init": "hãy chạy 'nhacviec init' trước.",
    "set_due": "dùng 'nhacviec tasks set-due {task} NGÀY'.",
    "extend": "để lùi hạn hãy dùng 'nhacviec tasks extend {task} --to NGÀY --reason ...'.",
    "passwd": "đổi mật khẩu bằng 'nhacviec users passwd {user}'.",
    "ics_list": "xem 'nhacviec ics list'.",
    "add_rule": "thêm bằng 'nhacviec rules import' hoặc chạy lại 'nhacviec init'.",
    "list_tasks": "xem 'nhacviec tasks list'.",
    "set_due_first": "hãy đặt hạn trước ('nhacviec tasks set-due {task} NGÀY').",
    "choose_plan": "hãy chọn kế hoạch bằng --plan MÃ.",
    "add_head": 'thêm bằng \'nhacviec units set {unit} head.name="..." head.title="..."\' rồi làm lại.',
}


def error_text(error: BaseException) -> str:
    """A user's error as the CLI says it: the problem, then the command that fixes it."""
    return say(error, FIX_HINTS)


def when(at: datetime) -> str:
    """A send time as the office reads it: "T5 02/01/2020 07:30"."""
    local = at.astimezone(tz())
    return f"{WEEKDAY_SHORT[local.weekday()]} {local:%d/%m/%Y %H:%M}"


_TIME_SUFFIX = re.compile(r"^(.*?)[ T](\d{1,2})[:h](\d{2})(?::\d{2})?\s*$")


_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def parse_datetime(text: str, what: str = "thời điểm", default_time: time | None = None) -> datetime:
    """A moment typed by a user, in the settings' time zone: "2020-12-01 07:30", "01/12/2020 7h30", or a date alone;
    also ISO 8601 with its offset ("2020-01-22T07:30:00+07:00", what ``date -Iseconds`` gives)."""
    if _ISO_OFFSET.match(text.strip()):
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(tz())
        except ValueError:
            raise UserError(f"{what.capitalize()} '{text}' không phải thời điểm ISO 8601 hợp lệ.") from None
        parse_date(f"{moment:%Y-%m-%d}", what)  # the calendar's years
        return moment
    match = _TIME_SUFFIX.match(text.strip())
    if match:
        day = parse_date(match.group(1), what)
        hour, minute = int(match.group(2)), int(match.group(3))
        if hour > 23 or minute > 59:
            raise UserError(f"Giờ trong {what} '{text}' không hợp lệ.")
        return datetime.combine(day, time(hour, minute), tz())
    return datetime.combine(parse_date(text, what), default_time or time(23, 59), tz())


def now() -> datetime:
    """The CLI's clock, in Vietnam time."""
    return datetime.now(tz())


def today() -> date:
    """Today in the settings' time zone: the CLI's only clock (logic below it takes dates as arguments)."""
    return datetime.now(tz()).date()


def settings() -> Settings:
    from config.settings import get_settings

    return get_settings()


def open_store() -> Engine:
    """The database engine with its schema brought up to date."""
    from store.db import make_engine, upgrade_schema

    engine = make_engine(settings().effective_database_url)
    upgrade_schema(engine)
    return engine


def load_directory() -> Directory:
    """The unit directory, from the database (seeded from NHACVIEC_UNITS_FILE the first time)."""
    from store.db import session_scope
    from store.directory import load_directory as load

    with session_scope(open_store()) as session:
        return load(session, settings().units_file)


def actor() -> str:
    """Who is acting, for the task history: the OS user running the command."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name (containers): still record something meaningful
        return "cli"
