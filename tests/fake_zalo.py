"""A fake Zalo API on 127.0.0.1 (a free port): OA messages, ZNS messages and the OAuth v4 token refresh.

It behaves as the project's Zalo spec describes: it issues tokens, accepts an
access token until it is revoked (by a refresh, or by ``expire_access_tokens``),
accepts each refresh token ONCE, answers errors in the body with HTTP 200, and
can be scripted to fail per user id, per phone, or on the token endpoint.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

OA_PATH = "/v3.0/oa/message/cs"
ZNS_PATH = "/message/template"
TOKEN_PATH = "/v4/oa/access_token"


@dataclass(frozen=True)
class Reply:
    """A scripted answer: a JSON body, or raw non-JSON text (an HTML error page from a proxy)."""

    status: int = 200
    body: dict[str, Any] | None = None
    raw: str | None = None


def error_reply(code: int, message: str = "Zalo error", status: int = 200) -> Reply:
    return Reply(status, {"error": code, "message": message})


def html_reply(status: int = 502) -> Reply:
    return Reply(status, raw=f"<html><body><h1>{status} Bad Gateway</h1></body></html>")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 50 concurrent senders open 50 connections at once
    daemon_threads = True


@dataclass
class _Script:
    replies: list[Reply]
    forever: bool = False  # repeat the last reply for ever


@dataclass
class FakeZalo:
    app_id: str = "app-123"
    secret_key: str = "fake-secret-key-9f8e7d"
    expires_in: str = "90000"
    revoke_old_access_on_refresh: bool = True
    refresh_delay: float = 0.0  # seconds the token endpoint takes (widens race windows)
    counts: Counter[str] = field(default_factory=Counter)  # requests per endpoint: "oa", "zns", "refresh"
    oa_messages: list[dict[str, Any]] = field(default_factory=list)  # delivered OA messages
    zns_messages: list[dict[str, Any]] = field(default_factory=list)  # delivered ZNS messages
    used_refresh_tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._scripts: dict[tuple[str, str], _Script] = {}
        self._ids = 0
        self._server: ThreadingHTTPServer | None = None

    # -- the test's handles ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def issue_pair(self) -> tuple[str, str]:
        """A fresh valid (access token, refresh token), as an admin's authorisation would give."""
        with self._lock:
            return self._new_pair()

    def issue_refresh_token(self) -> str:
        with self._lock:
            token = f"rt-{secrets.token_hex(12)}"
            self._refresh.add(token)
            return token

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (-216 on OA, -124 on ZNS)."""
        with self._lock:
            self._access.clear()

    def valid_refresh_tokens(self) -> set[str]:
        with self._lock:
            return set(self._refresh)

    def script_oa(self, user_id: str, *replies: Reply, forever: bool = False) -> None:
        """Answer the next OA messages to ``user_id`` with ``replies`` (in order; the last for ever if asked)."""
        self._scripts[("oa", user_id)] = _Script(list(replies), forever)

    def script_zns(self, phone: str, *replies: Reply, forever: bool = False) -> None:
        self._scripts[("zns", phone)] = _Script(list(replies), forever)

    def script_refresh(self, *replies: Reply, forever: bool = False) -> None:
        self._scripts[("refresh", "")] = _Script(list(replies), forever)

    def refresh(self, refresh_token: str) -> tuple[int, dict[str, Any]]:
        """Call the token endpoint as a client would (to check that a used refresh token is refused)."""
        response = httpx.post(
            self.url + TOKEN_PATH,
            headers={"secret_key": self.secret_key},
            data={"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token},
        )
        return response.status_code, response.json()

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> FakeZalo:
        fake = self

        class Handler(_Handler):
            zalo = fake

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.02,), name="fake-zalo", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- behaviour --------------------------------------------------------------------------------------

    def _new_pair(self) -> tuple[str, str]:
        access, refresh = f"at-{secrets.token_hex(16)}", f"rt-{secrets.token_hex(12)}"
        self._access.add(access)
        self._refresh.add(refresh)
        return access, refresh

    def _next_id(self) -> str:
        self._ids += 1
        return f"{self._ids:012d}"

    def _scripted(self, kind: str, key: str) -> Reply | None:
        script = self._scripts.get((kind, key))
        if script is None or not script.replies:
            return None
        if len(script.replies) == 1 and script.forever:
            return script.replies[0]
        return script.replies.pop(0)

    def handle_oa(self, token: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.counts["oa"] += 1
            if token not in self._access:
                return error_reply(-216, "Access token is invalid")
            user_id = str((body.get("recipient") or {}).get("user_id") or "")
            text = (body.get("message") or {}).get("text")
            scripted = self._scripted("oa", user_id)
            if scripted is not None:
                return scripted
            if not user_id or not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return error_reply(-201, "Parameters are invalid")
            message_id = f"oa{self._next_id()}"
            self.oa_messages.append({"user_id": user_id, "text": text, "message_id": message_id})
            return Reply(
                200,
                {
                    "error": 0,
                    "message": "Success",
                    "data": {
                        "message_id": message_id,
                        "user_id": user_id,
                        "sent_time": str(int(time.time() * 1000)),
                    },
                },
            )

    def handle_zns(self, token: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.counts["zns"] += 1
            if token not in self._access:
                return error_reply(-124, "Access token is invalid")
            phone = str(body.get("phone") or "")
            scripted = self._scripted("zns", phone)
            if scripted is not None:
                return scripted
            if not re.fullmatch(r"84\d{8,10}", phone):
                return error_reply(-108, "Phone number is invalid")
            if not body.get("template_id"):
                return error_reply(-109, "Template ID is invalid")
            if not isinstance(body.get("template_data"), dict):
                return error_reply(-111, "Template data is invalid")
            msg_id = f"zns{self._next_id()}"
            self.zns_messages.append(
                {
                    "phone": phone,
                    "template_id": body["template_id"],
                    "template_data": body["template_data"],
                    "tracking_id": body.get("tracking_id"),
                    "mode": body.get("mode"),
                    "msg_id": msg_id,
                }
            )
            quota = {"dailyQuota": "500", "remainingQuota": str(500 - len(self.zns_messages))}
            return Reply(
                200,
                {
                    "error": 0,
                    "message": "Success",
                    "data": {"msg_id": msg_id, "sent_time": str(int(time.time() * 1000)), "quota": quota},
                },
            )

    def handle_refresh(self, secret_key: str, form: dict[str, str]) -> Reply:
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        with self._lock:
            self.counts["refresh"] += 1
            scripted = self._scripted("refresh", "")
            if scripted is not None:
                return scripted
            if secret_key != self.secret_key or form.get("app_id") != self.app_id:
                return Reply(200, {"error": -14002, "error_name": "Invalid app", "message": "App is invalid"})
            token = form.get("refresh_token", "")
            if form.get("grant_type") != "refresh_token" or token not in self._refresh:
                return Reply(
                    200,
                    {
                        "error": -14014,
                        "error_name": "Invalid refresh token",
                        "message": "Refresh token is invalid",
                    },
                )
            self._refresh.discard(token)
            self.used_refresh_tokens.append(token)
            if self.revoke_old_access_on_refresh:
                self._access.clear()
            access, refresh = self._new_pair()
            return Reply(
                200, {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in}
            )


class _Handler(BaseHTTPRequestHandler):
    zalo: FakeZalo
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        if self.path == TOKEN_PATH:
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            reply = self.zalo.handle_refresh(self.headers.get("secret_key", ""), form)
        elif self.path in (OA_PATH, ZNS_PATH):
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            token = self.headers.get("access_token", "")
            handle = self.zalo.handle_oa if self.path == OA_PATH else self.zalo.handle_zns
            reply = handle(token, body if isinstance(body, dict) else {})
        else:
            reply = Reply(404, raw="<html>Not Found</html>")
        self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        if reply.raw is not None:
            payload, content_type = reply.raw.encode("utf-8"), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(reply.body).encode("utf-8"), "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@contextmanager
def running_fake(**options: Any) -> Iterator[FakeZalo]:
    fake = FakeZalo(**options).start()
    try:
        yield fake
    finally:
        fake.stop()
