"""How an invite is handed over: the Telegram deep link, the Zalo instructions, and their QR codes.

Telegram: ``https://t.me/<bot>?start=<CODE>`` opens a private chat with the bot and sends ``/start CODE``
(``?startgroup=<CODE>`` lets the user pick a group to add the bot to, which then receives ``/start CODE``).
The bot's name comes from ``NHACVIEC_TELEGRAM_BOT_USERNAME``, or else from Telegram (``getMe``, bounded by a
timeout). Zalo: the code is sent to the Official Account as a message, after following it
(``NHACVIEC_ZALO_OA_LINK``, the OA's page, is shown as a QR code when set).

QR codes are drawn by segno (pure Python, ISO/IEC 18004): SVG for the web, Unicode half blocks for a terminal.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import segno

from plan.errors import UserError

if TYPE_CHECKING:
    from config.settings import Settings

GETME_TIMEOUT = 10.0


@dataclass(frozen=True)
class Handover:
    """What the person invited is given: a link (Telegram) or the OA's page (Zalo, when known), and steps."""

    channel: str
    code: str
    link: str | None  # what the QR code holds
    group_link: str | None
    steps: tuple[str, ...]


def bot_username(settings: Settings) -> str:
    """The bot's @name (without the @): the setting, or Telegram's answer to getMe."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.strip().lstrip("@")
    if settings.telegram_token is None:
        raise UserError(
            "Chưa biết tên bot Telegram để tạo liên kết mời: đặt NHACVIEC_TELEGRAM_BOT_USERNAME "
            "(tên bot, ví dụ nhacviec_so_bot) hoặc NHACVIEC_TELEGRAM_TOKEN."
        )
    from inbound.bot import make_bot

    async def ask() -> str | None:
        async with make_bot(settings) as bot:
            return (await asyncio.wait_for(bot.get_me(), GETME_TIMEOUT)).username

    try:
        name = asyncio.run(ask())
    except Exception:  # network, timeout, a refused token: one sentence, never the token
        name = None
    if not name:
        raise UserError(
            "Không hỏi được Telegram tên của bot (mạng hoặc token có vấn đề); đặt NHACVIEC_TELEGRAM_BOT_USERNAME "
            "rồi làm lại."
        )
    return name


def handover(settings: Settings, channel: str, code: str, who: str) -> Handover:
    """The link and the steps for ``code`` (as shown, with dashes); ``who`` names the recipient bound."""
    compact = code.replace("-", "")
    if channel == "telegram":
        name = bot_username(settings)
        link: str | None = f"https://t.me/{name}?start={compact}"
        group = f"https://t.me/{name}?startgroup={compact}"
        steps = (
            f"Mở liên kết (hoặc quét mã QR) rồi bấm 'Bắt đầu' để nhận nhắc việc của {who} trong chat riêng.",
            f"Để nhận trong một nhóm: mở {group}, chọn nhóm; hoặc thêm @{name} vào nhóm rồi gửi "
            f"/start {code} trong nhóm.",
        )
        return Handover(channel, code, link, group, steps)
    link = settings.zalo_oa_link or None
    follow = "Quan tâm (theo dõi) Official Account của Sở trên Zalo" + (
        " (quét mã QR hoặc mở liên kết)" if link else ""
    )
    steps = (f"{follow}.", f"Gửi cho Official Account tin nhắn: {code} — để nhận nhắc việc của {who}.")
    return Handover(channel, code, link, None, steps)


def qr_svg(data: str, *, scale: int = 4) -> str:
    """The QR code of ``data`` as an inline SVG element."""
    return segno.make(data, error="m").svg_inline(scale=scale, title="Mã QR")


def qr_text(data: str) -> str:
    """The QR code of ``data`` drawn with Unicode half blocks, for a terminal (light modules printed)."""
    out = io.StringIO()
    segno.make(data, error="m").terminal(out=out, compact=True)
    return out.getvalue()
