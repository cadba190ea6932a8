"""Stand-ins for real channels: a folder of message files, and the console.

A message written here reached nobody: the sink says so (``SendResult.written``), and the outbox
records it as ``written`` ("ghi ra tệp (chưa cấu hình kênh)"), never as sent.

:class:`FileSinkNotifier` writes what would have been sent, one file per
message: a real ``.eml`` for email (built by the email notifier's own
:func:`~notifiers.email.build_email`) and a small ``.txt`` for Telegram and
Zalo. Files are written atomically and named after the outbox key, so sending
the same message again overwrites it. :class:`ConsoleNotifier` prints a short
readable block per message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from config import DEFAULT_TIMEZONE
from config.settings import Settings
from notifiers.base import Notifier, OutgoingMessage, PermanentError, SendResult, TransientError
from notifiers.email import build_email, email_bytes
from rules.channels import CHANNELS

DEFAULT_SENDER: str = Settings.model_fields["smtp_from"].default
DEFAULT_TZ = ZoneInfo(DEFAULT_TIMEZONE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100


def safe_key(key: str) -> str:
    """A file name for ``key``: the key itself when harmless, else a cleaned form plus a short hash."""
    cleaned = _UNSAFE.sub("_", key).strip("._")[:_MAX_NAME]
    if cleaned == key:
        return key
    return f"{cleaned}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:10]}"


def text_record(message: OutgoingMessage) -> str:
    """The ``.txt`` form of a non-email message: a header block, a blank line, the text."""
    lines = [
        f"Kênh: {message.channel}",
        f"Người nhận: {message.recipient_name}",
        f"Địa chỉ: {message.address}",
        f"Khóa: {message.key}",
        f"Tiêu đề: {message.subject}",
    ]
    if message.extra:
        lines.append(
            f"Dữ liệu: {json.dumps(dict(message.extra), ensure_ascii=False, sort_keys=True, default=str)}"
        )
    return "\n".join(lines) + "\n\n" + message.text.rstrip("\n") + "\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FileSinkNotifier(Notifier):
    """Write each message to ``<directory>/<YYYY-MM-DD>/<safe key>.eml`` (email) or ``.txt`` (others)."""

    channel = "sink"

    def __init__(
        self,
        channel: str,
        directory: Path,
        *,
        sender: str = DEFAULT_SENDER,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.channel = channel  # one class stands in for every channel
        self.directory = Path(directory)
        self.sender = sender
        self.clock = clock or (lambda: datetime.now(DEFAULT_TZ))

    @classmethod
    def from_settings(cls, settings: Settings, channel: str) -> FileSinkNotifier:
        timezone = ZoneInfo(settings.timezone)
        return cls(
            channel,
            settings.effective_sink_dir,
            sender=settings.smtp_from,
            clock=lambda: datetime.now(timezone),
        )

    def path_for(self, message: OutgoingMessage, at: datetime) -> Path:
        spec = CHANNELS.get(self.channel)
        suffix = spec.sink_suffix if spec is not None else ".txt"
        return self.directory / at.date().isoformat() / f"{safe_key(message.key)}{suffix}"

    async def send(self, message: OutgoingMessage) -> SendResult:
        now = self.clock()
        path = self.path_for(message, now)
        if self.path_for(message, now).suffix == ".eml":
            try:
                data = email_bytes(build_email(message, self.sender, sent_at=now))
            except ValueError as error:  # as the email notifier would: this address can never work
                raise PermanentError(f"Địa chỉ email không hợp lệ: {message.address!r}") from error
        else:
            data = text_record(message).encode("utf-8")
        try:
            await asyncio.to_thread(write_atomically, path, data)
        except OSError as error:  # a full disk, a folder made read-only or replaced by a file: may pass later
            raise TransientError(
                f"Không ghi được tệp {path} ({error.strerror or type(error).__name__}); sẽ thử lại"
            ) from error
        return SendResult(provider_id=str(path), written=True)


class ConsoleNotifier(Notifier):
    """Print a compact block per message (channel, recipient, key, subject, text) to ``stream``."""

    channel = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream  # None: sys.stdout at the time of sending

    async def send(self, message: OutgoingMessage) -> SendResult:
        stream = self.stream or sys.stdout
        block = console_block(message)
        try:
            stream.write(block)
        except UnicodeEncodeError:  # a console that cannot show Vietnamese: degrade, never fail the send
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(block.encode(encoding, "replace").decode(encoding))
        stream.flush()
        return SendResult()


def console_block(message: OutgoingMessage) -> str:
    """``── email → Phòng Tổ chức cán bộ <tccb@...> [key]``, the subject, then the indented text."""
    body = "\n".join(f"   {line}".rstrip() for line in message.text.rstrip("\n").splitlines())
    return (
        f"── {message.channel} → {message.recipient_name} <{message.address}> [{message.key}]\n"
        f"   {message.subject}\n"
        f"{body}\n\n"
    )
