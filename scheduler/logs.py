"""Logs a collector can parse: one JSON object per line, one line per event (``NHACVIEC_LOG_FORMAT=text`` for humans)."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_FIELDS = re.compile(r"(\w+)=(\S+)")


class JsonLineFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...}``; ``key=value`` pairs in the message (the notification key,
    the channel...) are lifted into fields, so ``jq 'select(.key == "...")'`` finds every event of a message."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message,
        }
        for name, value in _FIELDS.findall(message):
            data.setdefault(name, value)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info).replace("\n", " | ")
        return json.dumps(data, ensure_ascii=False)


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "telegram", "aiosmtplib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
