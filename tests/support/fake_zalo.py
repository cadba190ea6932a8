"""A fake Zalo on 127.0.0.1 (a free port) that checks what the real one checks, so a green test means something.

It follows the project's Zalo spec (../shared/specs/zalo-api.md), each rule with its source there:

- Wire format: OA and ZNS requests must be JSON (``Content-Type: application/json``) with an
  ``access_token`` header; the token refresh must be a form (``application/x-www-form-urlencoded``) with a
  ``secret_key`` header. Anything else is refused and listed in ``bad_requests``.
- Tokens (spec §3): access tokens live ``expires_in`` seconds, refresh tokens ``refresh_token_lifetime``
  (about three months) on the fake's clock; each refresh token works once; a refresh revokes the old
  access tokens.
- The OA window (spec §1): a consultation message reaches only a follower who interacted within 7 days
  (-213 not a follower, -230 silent for longer); the first 8 within 48 h are free, the others come from the
  OA's paid quota (-211 when spent); an OA whose tier does not allow them gets -224; a user receives at most
  ``oa_user_daily_cap`` a day (-218).
- ZNS (spec §2, zalo.cloud's ZNS pages): only registered templates (-109), with exactly their parameters,
  each value a string of its registered type's format and length (-112); the OA's daily quota (-144) and
  balance (-115); per-phone refusals on the recipient's side (-114, -110, -118 ...).
- Errors are answered in the body with HTTP 200, as Zalo does; any reply can be scripted per user id, per
  phone, or for the token endpoint.

``signed_event`` builds an OA webhook call as Zalo signs it (see web.routes.zalo_webhook).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from templates.render import ZNS_PARAM_TYPES, length, load_zns

OA_PATH = "/v3.0/oa/message/cs"
OA_INFO_PATH = "/v2.0/oa/getoa"
ZNS_PATH = "/message/template"
TOKEN_PATH = "/v4/oa/access_token"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Reply:
    """A scripted answer: a JSON body, or raw non-JSON text (an HTML error page from a proxy)."""

    status: int = 200
    body: dict[str, Any] | None = None
    raw: str | None = None


PASS = Reply(status=0)  # in a script: answer this request as the fake normally would


def error_reply(code: int, message: str = "Zalo error", status: int = 200) -> Reply:
    return Reply(status, {"error": code, "message": message})


def html_reply(status: int = 502) -> Reply:
    return Reply(status, raw=f"<html><body><h1>{status} Bad Gateway</h1></body></html>")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 50 concurrent senders open 50 connections at once
    daemon_threads = True


@dataclass
class _Script:
    replies: list[Reply]
    forever: bool = False  # repeat the last reply for ever


@dataclass
class _Follower:
    last_interaction: datetime
    following: bool = True
    free_used: int = 0  # free messages sent since the last interaction


@dataclass
class FakeZalo:
    app_id: str = "app-123"
    oa_name: str = "Sở GD&ĐT (thử)"
    secret_key: str = "fake-secret-key-9f8e7d"
    oa_secret_key: str = "fake-oa-secret-3c2b1a"  # signs webhook events (not the app's secret)
    expires_in: str = "90000"
    refresh_token_lifetime: timedelta = timedelta(days=90)
    revoke_old_access_on_refresh: bool = True
    refresh_delay: float = 0.0  # seconds the token endpoint takes (widens race windows)
    clock: Callable[[], datetime] = _utcnow
    # The OA window and quotas (spec §1).
    oa_window: timedelta = timedelta(days=7)
    oa_free_window: timedelta = timedelta(hours=48)
    oa_free_per_window: int = 8
    oa_paid_quota: int | None = None  # messages left from the OA's paid quota; None: unlimited
    oa_tier_allows_cs: bool = True
    oa_user_daily_cap: int | None = None  # consultation messages one user may receive a day
    # ZNS quotas (spec §2 / §4).
    zns_daily_quota: int = 500
    zns_balance: int | None = None  # messages the balance still pays for; None: unlimited
    counts: Counter[str] = field(default_factory=Counter)  # requests per endpoint: "oa", "zns", "refresh"
    oa_messages: list[dict[str, Any]] = field(default_factory=list)  # delivered OA messages
    zns_messages: list[dict[str, Any]] = field(default_factory=list)  # delivered ZNS messages
    used_refresh_tokens: list[str] = field(default_factory=list)
    bad_requests: list[str] = field(default_factory=list)  # what the real Zalo would refuse as malformed

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, datetime] = {}  # token -> expiry
        self._refresh: dict[str, datetime] = {}  # token -> issued at
        self._scripts: dict[tuple[str, str], _Script] = {}
        self._followers: dict[str, _Follower] = {}
        self._received: Counter[tuple[str, str]] = Counter()  # (user id, day) -> consultation messages
        self._zns_sent: Counter[str] = Counter()  # day -> ZNS messages
        self._zns_refusals: dict[str, int] = {}
        self._templates: dict[str, dict[str, str]] = {}
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
            self._refresh[token] = self.clock()
            return token

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (-216 on OA, -124 on ZNS)."""
        with self._lock:
            self._access.clear()

    def valid_refresh_tokens(self) -> set[str]:
        with self._lock:
            now = self.clock()
            return {t for t, issued in self._refresh.items() if now - issued < self.refresh_token_lifetime}

    def interact(self, *user_ids: str, at: datetime | None = None) -> None:
        """These users follow the OA and have just interacted with it (sent a message, followed...)."""
        with self._lock:
            for user_id in user_ids:
                self._followers[user_id] = _Follower(at or self.clock())

    def unfollow(self, user_id: str) -> None:
        with self._lock:
            if user_id in self._followers:
                self._followers[user_id].following = False

    def register_template(self, template_id: str, params: Mapping[str, str]) -> None:
        """An approved ZNS template: its parameters and their registered types (keys of ZNS_PARAM_TYPES)."""
        assert all(kind in ZNS_PARAM_TYPES for kind in params.values()), params
        self._templates[str(template_id)] = dict(params)

    def register_zns_file(self, path: Path) -> None:
        """Every template of a config/zns.yaml, registered with the types the file declares."""
        templates, problems = load_zns(path)
        assert not problems, problems
        for template in templates.values():
            self.register_template(template.template_id, {n: p.type for n, p in template.params.items()})

    def refuse_zns(self, phone: str, code: int = -114) -> None:
        """This phone's owner cannot or will not receive ZNS (inactive, refusing, outdated app...)."""
        self._zns_refusals[phone] = code

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

    def signed_event(
        self, event: Mapping[str, Any], *, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """An OA webhook call: the JSON body and its headers, signed as Zalo signs them.

        ``X-ZEvent-Signature: mac=sha256(app_id + body + timestamp + OA secret key)`` (see the route's doc).
        """
        event = {"app_id": self.app_id, "timestamp": str(int(self.clock().timestamp() * 1000)), **event}
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        signed = f"{event['app_id']}{body.decode('utf-8')}{event['timestamp']}{secret or self.oa_secret_key}"
        mac = hashlib.sha256(signed.encode("utf-8")).hexdigest()
        return body, {"Content-Type": JSON, "X-ZEvent-Signature": f"mac={mac}"}

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
        now = self.clock()
        self._access[access] = now + timedelta(seconds=int(self.expires_in))
        self._refresh[refresh] = now
        return access, refresh

    def _next_id(self) -> str:
        self._ids += 1
        return f"{self._ids:012d}"

    def _scripted(self, kind: str, key: str) -> Reply | None:
        script = self._scripts.get((kind, key))
        if script is None or not script.replies:
            return None
        reply = script.replies[0] if len(script.replies) == 1 and script.forever else script.replies.pop(0)
        return None if reply is PASS else reply

    def _token_ok(self, token: str) -> bool:
        expiry = self._access.get(token)
        return expiry is not None and self.clock() < expiry

    def _bad(self, what: str, reply: Reply) -> Reply:
        self.bad_requests.append(what)
        return reply

    def handle_oa(self, content_type: str, token: str, body: Any) -> Reply:
        with self._lock:
            self.counts["oa"] += 1
            if content_type != JSON or not isinstance(body, dict):
                return self._bad(
                    f"OA message sent as {content_type!r}", error_reply(-201, "Body is not JSON")
                )
            if not self._token_ok(token):
                return error_reply(-216, "Access token is invalid")
            user_id = (body.get("recipient") or {}).get("user_id")
            text = (body.get("message") or {}).get("text")
            scripted = self._scripted("oa", str(user_id))
            if scripted is not None:
                return scripted
            if not isinstance(user_id, str) or not user_id or not isinstance(text, str):
                return self._bad(
                    "OA message without user_id or text", error_reply(-201, "Parameters invalid")
                )
            if not 1 <= len(text) <= 2000:
                return self._bad(f"OA text of {len(text)} characters", error_reply(-201, "Text is too long"))
            return self._consult(user_id, text)

    def _consult(self, user_id: str, text: str) -> Reply:
        """The OA window and quotas of a consultation message (spec §1)."""
        if not self.oa_tier_allows_cs:
            return error_reply(-224, "OA tier does not allow this message")
        follower = self._followers.get(user_id)
        now = self.clock()
        if follower is None or not follower.following:
            return error_reply(-213, "User has not followed the OA")
        since = now - follower.last_interaction
        if since > self.oa_window:
            return error_reply(-230, "User has not interacted with the OA in the last 7 days")
        day = (user_id, f"{now:%Y-%m-%d}")
        if self.oa_user_daily_cap is not None and self._received[day] >= self.oa_user_daily_cap:
            return error_reply(-218, "User has reached the limit of messages they can receive")
        if since <= self.oa_free_window and follower.free_used < self.oa_free_per_window:
            follower.free_used += 1
            quota_type = "reply"
        elif self.oa_paid_quota is None or self.oa_paid_quota > 0:
            if self.oa_paid_quota is not None:
                self.oa_paid_quota -= 1
            quota_type = "purchase_quota"
        else:
            return error_reply(-211, "OA is out of quota")
        self._received[day] += 1
        message_id = f"oa{self._next_id()}"
        self.oa_messages.append(
            {"user_id": user_id, "text": text, "message_id": message_id, "quota_type": quota_type}
        )
        data = {"message_id": message_id, "user_id": user_id, "sent_time": str(int(time.time() * 1000))}
        return Reply(200, {"error": 0, "message": "Success", "data": {**data, "quota_type": quota_type}})

    def handle_oa_info(self, token: str) -> Reply:
        """GET /v2.0/oa/getoa: the OA's profile, for a valid access token (what `doctor` asks)."""
        with self._lock:
            self.counts["oa_info"] += 1
            if not self._token_ok(token):
                return error_reply(-216, "Access token is invalid")
            return Reply(
                200, {"error": 0, "message": "Success", "data": {"oa_id": "1234567890", "name": self.oa_name}}
            )

    def handle_zns(self, content_type: str, token: str, body: Any) -> Reply:
        with self._lock:
            self.counts["zns"] += 1
            if content_type != JSON or not isinstance(body, dict):
                return self._bad(
                    f"ZNS message sent as {content_type!r}", error_reply(-121, "Body is not JSON")
                )
            if not self._token_ok(token):
                return error_reply(-124, "Access token is invalid")
            phone = str(body.get("phone") or "")
            scripted = self._scripted("zns", phone)
            if scripted is not None:
                return scripted
            if not re.fullmatch(r"84\d{8,10}", phone):
                return self._bad(f"ZNS phone {phone!r}", error_reply(-108, "Phone number is invalid"))
            template = self._templates.get(str(body.get("template_id")))
            if template is None:
                return self._bad(
                    f"ZNS template {body.get('template_id')!r}", error_reply(-109, "Template invalid")
                )
            data = body.get("template_data")
            if not isinstance(data, dict) or not data:
                return self._bad("ZNS without template_data", error_reply(-111, "Template data empty"))
            problem = _template_data_problem(template, data)
            tracking = body.get("tracking_id")
            if problem is None and not (isinstance(tracking, str) and 0 < len(tracking) <= 48):
                problem = f"tracking_id {tracking!r}"
            if problem is not None:
                return self._bad(f"ZNS template data: {problem}", error_reply(-112, "Template data invalid"))
            if phone in self._zns_refusals:
                return error_reply(self._zns_refusals[phone], "User cannot receive ZNS")
            day = f"{self.clock():%Y-%m-%d}"
            if self._zns_sent[day] >= self.zns_daily_quota:
                return error_reply(-144, "OA has exceeded its daily ZNS quota")
            if self.zns_balance is not None:
                if self.zns_balance <= 0:
                    return error_reply(-115, "Out of quota")
                self.zns_balance -= 1
            self._zns_sent[day] += 1
            msg_id = f"zns{self._next_id()}"
            self.zns_messages.append(
                {
                    "phone": phone,
                    "template_id": body["template_id"],
                    "template_data": data,
                    "tracking_id": tracking,
                    "mode": body.get("mode"),
                    "msg_id": msg_id,
                }
            )
            quota = {
                "dailyQuota": str(self.zns_daily_quota),
                "remainingQuota": str(self.zns_daily_quota - self._zns_sent[day]),
            }
            return Reply(
                200,
                {
                    "error": 0,
                    "message": "Success",
                    "data": {"msg_id": msg_id, "sent_time": str(int(time.time() * 1000)), "quota": quota},
                },
            )

    def handle_refresh(self, content_type: str, secret_key: str, form: dict[str, str]) -> Reply:
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        with self._lock:
            self.counts["refresh"] += 1
            if content_type != FORM:
                return self._bad(
                    f"token refresh sent as {content_type!r}",
                    Reply(200, {"error": -14003, "error_name": "Invalid parameter", "message": "Not a form"}),
                )
            scripted = self._scripted("refresh", "")
            if scripted is not None:
                return scripted
            if secret_key != self.secret_key or form.get("app_id") != self.app_id:
                return Reply(200, {"error": -14002, "error_name": "Invalid app", "message": "App is invalid"})
            token = form.get("refresh_token", "")
            issued = self._refresh.get(token)
            expired = issued is not None and self.clock() - issued >= self.refresh_token_lifetime
            if form.get("grant_type") != "refresh_token" or issued is None or expired:
                return Reply(
                    200,
                    {
                        "error": -14014,
                        "error_name": "Invalid refresh token",
                        "message": "Refresh token is invalid" + (" (expired)" if expired else ""),
                    },
                )
            del self._refresh[token]
            self.used_refresh_tokens.append(token)
            if self.revoke_old_access_on_refresh:
                self._access.clear()
            access, refresh = self._new_pair()
            return Reply(
                200, {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in}
            )


def _template_data_problem(template: Mapping[str, str], data: Mapping[str, Any]) -> str | None:
    """Why Zalo would refuse these values for this template (its parameters and their registered types)."""
    if set(data) != set(template):
        return f"parameters {sorted(data)} instead of {sorted(template)}"
    grouped: dict[str, list[str]] = defaultdict(list)
    for name, value in data.items():
        kind = ZNS_PARAM_TYPES[template[name]]
        if not isinstance(value, str):
            return f"{name} is a {type(value).__name__}, not a string"
        if length(value) > kind.max_length:
            return f"{name} has {length(value)} characters, its type {template[name]} takes {kind.max_length}"
        if kind.pattern is not None and not re.fullmatch(kind.pattern, value):
            grouped[template[name]].append(f"{name}={value!r}")
    if grouped:
        return "; ".join(f"not a {kind}: {', '.join(values)}" for kind, values in grouped.items())
    return None


class _Handler(BaseHTTPRequestHandler):
    zalo: FakeZalo
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == OA_INFO_PATH:
            self._answer(self.zalo.handle_oa_info(self.headers.get("access_token", "")))
        else:
            self._answer(Reply(404, raw="<html>Not Found</html>"))

    def do_POST(self) -> None:
        length_ = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length_).decode("utf-8")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if self.path == TOKEN_PATH:
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            reply = self.zalo.handle_refresh(content_type, self.headers.get("secret_key", ""), form)
        elif self.path in (OA_PATH, ZNS_PATH):
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = None
            token = self.headers.get("access_token", "")
            handle = self.zalo.handle_oa if self.path == OA_PATH else self.zalo.handle_zns
            reply = handle(content_type, token, body)
        else:
            reply = Reply(404, raw="<html>Not Found</html>")
        self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        if reply.raw is not None:
            payload, content_type = reply.raw.encode("utf-8"), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(reply.body).encode("utf-8"), JSON
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
