"""Bundled delivery end to end, with a real SMTP server (aiosmtpd) and the fake Telegram Bot API:
one message per address and channel for a pass, every item in it, and kill -9 between two messages
loses nothing and sends nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.smtp_server import running_smtp_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FIRST = "2020-11-20 07:30"  # the last pass before three weeks of downtime
BUSY = "2020-12-10 07:30"  # the catch-up: three weeks of overdue tasks, digests and report requests


def outbox_of(run_cli: Any) -> list[dict[str, Any]]:
    return json.loads(run_cli("outbox", "list", "--json").stdout)


def use_smtp(monkeypatch: pytest.MonkeyPatch, server: Any, pool: int = 4) -> None:
    monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
    monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
    monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
    monkeypatch.setenv("NHACVIEC_SMTP_POOL_SIZE", str(pool))


def test_a_pass_over_many_overdue_tasks_sends_each_address_one_email_and_each_chat_one_message(
    run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.support.fake_telegram import FakeTelegram

    assert run_cli("init").exit_code == 0
    assert run_cli("run", "--once", "--at", FIRST).exit_code == 0
    with FakeTelegram() as telegram, running_smtp_server() as smtp:
        use_smtp(monkeypatch, smtp)
        monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", telegram.token)
        monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", telegram.url)
        result = run_cli("run", "--once", "--at", BUSY)
        assert result.exit_code == 0, result.stderr
        emails, chats = list(smtp.messages), list(telegram.sent)
    pass_messages = [m for m in outbox_of(run_cli) if m["due_at"].startswith("2020-12-10")]
    assert {m["status"] for m in pass_messages} == {"sent"}
    assert sum(len(m["items"]) for m in pass_messages) > 2 * len(pass_messages)  # bundled

    # email: at most one per address, and each lists every item it carries
    assert len(emails) == len([m for m in pass_messages if m["channel"] == "email"])
    addresses = Counter(address for email in emails for address in email.recipients)
    assert set(addresses.values()) == {1}
    by_key = {m["key"]: m for m in pass_messages}
    director = next(m for m in pass_messages if m["recipient"] == "GD" and m["channel"] == "email")
    assert director["kind"] == "bundle" and len(director["items"]) > 3
    for email in emails:
        message = by_key[email.message["X-Nhacviec-Key"]]
        body = email.message.get_body(("plain",)).get_content()
        tasks = [item["task"] for item in message["items"] if item["task"]]
        assert all(f"/xong {task}" in body for task in tasks), (message["key"], tasks)
        if (
            len(message["items"]) > 1
        ):  # a "Nơi nhận" line per item (the digest has none: it is for one reader)
            named = [item for item in message["items"] if item["kind"] != "digest"]
            assert body.count("Nơi nhận: ") == len(named)
            html = email.message.get_body(("html",)).get_content()
            assert html.count("Nơi nhận:") == len(named)

    # Telegram: one message per chat, in parts only past 4,096 characters, each part within it
    telegram_messages = [m for m in pass_messages if m["channel"] == "telegram"]
    per_chat = Counter(sent.chat_id for sent in chats)
    assert set(per_chat) == {m["address"] for m in telegram_messages}
    for message in telegram_messages:
        parts = [sent for sent in chats if sent.chat_id == message["address"]]
        assert all(len(part.visible_text.encode("utf-16-le")) // 2 <= 4096 for part in parts)
        whole = "\n\n".join(part.visible_text for part in parts)
        assert (len(parts) > 1) == (len(whole.encode("utf-16-le")) // 2 > 4096), message["key"]
        for item in message["items"]:
            if item["task"]:
                assert sum(f"/xong {item['task']}" in part.visible_text for part in parts) >= 1
    assert max(per_chat.values()) > 1  # the Office's three weeks do not fit in one Telegram message


def test_kill_9_between_two_messages_then_a_restart_delivers_every_item_exactly_once(
    run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    assert run_cli("run", "--once", "--at", FIRST).exit_code == 0
    command = [sys.executable, "-m", "cli.main", "run", "--once", "--at", BUSY]
    with running_smtp_server() as smtp:
        use_smtp(monkeypatch, smtp, pool=1)  # one message at a time: when the 4th is held, 3 are recorded
        smtp.hold_after(3)
        first = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL)
        try:
            assert smtp.handler.holding.wait(120), "the pass never reached its fourth email"
            time.sleep(0.3)  # the dispatcher waits on the held MAIL FROM: nothing of the 4th is sent
            assert first.poll() is None
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            smtp.release()
        assert len(smtp.messages) == 3
        in_outbox = outbox_of(run_cli)
        emails = [m for m in in_outbox if m["channel"] == "email" and m["due_at"].startswith("2020-12-10")]
        assert Counter(m["status"] for m in emails)["sent"] == 3  # recorded before the kill
        assert any(m["status"] == "sending" for m in emails)  # the held one, claimed by the dead process
        second = subprocess.run(
            command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 0, second.stderr
        arrived = Counter(m.message["X-Nhacviec-Key"] for m in smtp.messages)
    emails = [
        m for m in outbox_of(run_cli) if m["channel"] == "email" and m["due_at"].startswith("2020-12-10")
    ]
    assert {m["status"] for m in emails} == {"sent"}, [(m["key"], m["last_error"]) for m in emails]
    assert arrived == Counter({m["key"]: 1 for m in emails})  # every message once
    items = Counter(item["key"] for m in emails for item in m["items"])
    assert items and set(items.values()) == {1}  # so every item once
    assert sum(len(m["items"]) for m in emails) > len(emails)
